/**
 * Essaim's configuration: one typed, deeply frozen object built from defaults < file (TOML or
 * JSON) < ESSAIM_<SECTION>__<KEY> environment variables < programmatic overrides. The schema in
 * schema.ts is the single source of the keys, their types, defaults and docs; see
 * docs/configuration.md.
 *
 *   const config = loadConfig({ file: flags.config });   // throws ConfigError listing every problem
 *   config.tracker.http_port;                             // number
 */
export {
  configSchema,
  envName,
  LOG_LEVELS,
  TRACKER_MODES,
  type Config,
  type ConfigKey,
  type ConfigSchema,
  type Field,
  type FieldType,
  type LogLevel,
  type SectionName,
  type TrackerMode,
} from './schema.js';
export {
  ConfigError,
  configValue,
  defaultConfig,
  httpAnnounceBaseUrl,
  loadConfig,
  loadConfigWithSources,
  udpAnnounceBaseUrl,
  type ConfigOverrides,
  type ConfigSource,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
export {
  describeConfig,
  formatConfigListing,
  formatConfigValue,
  renderConfigDocs,
  spliceConfigDocs,
  type ConfigKeyDescription,
} from './describe.js';
