/**
 * Every feature's message catalogs, merged. A feature adds its keys in its own
 * `features/<name>/messages.ts`; this file only lists the features.
 */
import { mergeCatalogs } from './i18n.js';
import { messages as common } from './features/common/messages.js';
import { messages as accounts } from './features/accounts/messages.js';
import { messages as catalogue } from './features/catalogue/messages.js';
import { messages as upload } from './features/upload/messages.js';
import { messages as browse } from './features/browse/messages.js';
import { messages as torrent } from './features/torrent/messages.js';
import { messages as members } from './features/members/messages.js';
import { messages as rss } from './features/rss/messages.js';
import { messages as moderation } from './features/moderation/messages.js';
import { messages as discipline } from './features/discipline/messages.js';
import { messages as joining } from './features/joining/messages.js';
import { messages as lawful } from './features/lawful/messages.js';
import { messages as community } from './features/community/messages.js';
import { messages as apitokens } from './features/apitokens/messages.js';
import { messages as torznab } from './features/torznab/messages.js';

type KeysOf<C> = C extends { en: Record<infer K, string> } ? K : never;
export type MessageKey =
  | KeysOf<typeof common>
  | KeysOf<typeof accounts>
  | KeysOf<typeof catalogue>
  | KeysOf<typeof upload>
  | KeysOf<typeof browse>
  | KeysOf<typeof torrent>
  | KeysOf<typeof members>
  | KeysOf<typeof rss>
  | KeysOf<typeof moderation>
  | KeysOf<typeof discipline>
  | KeysOf<typeof joining>
  | KeysOf<typeof lawful>
  | KeysOf<typeof community>
  | KeysOf<typeof apitokens>
  | KeysOf<typeof torznab>;

export const catalogs = mergeCatalogs<MessageKey>([common, accounts, catalogue, upload, browse, torrent, members, rss, moderation, discipline, joining, lawful, community, apitokens, torznab]);
