/**
 * Invalidation of the website's in-process caches across nodes. Each cache (catalogue, role
 * grants, IP bans, site-wide freeleech factors, moderation settings) lives in the memory of each
 * web node, keyed by the database handle, with a short lifetime. When an edit invalidates one on
 * this node, `cacheInvalidated` tells the listeners (the composition root), which publish it on
 * the change bus; the other nodes then drop their copy through `dropCache` (which does not
 * notify again, so that nodes never echo each other). Without a bus, nothing listens.
 */
export const CACHE_NAMES = ['catalogue', 'grants', 'ipbans', 'factors', 'settings'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];

export function isCacheName(s: unknown): s is CacheName {
  return typeof s === 'string' && (CACHE_NAMES as readonly string[]).includes(s);
}

type Listener = (name: CacheName, db: object) => void;
const listeners = new Set<Listener>();
const droppers = new Map<CacheName, (db: object) => void>();

/** Called by a cache module when an edit on this node invalidated its cache. */
export function cacheInvalidated(name: CacheName, db: object): void {
  for (const l of listeners) l(name, db);
}

/** Listens to local invalidations; returns the function that stops listening. */
export function onCacheInvalidated(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A cache module registers how to drop its copy (without notifying). */
export function registerCacheDropper(name: CacheName, drop: (db: object) => void): void {
  droppers.set(name, drop);
}

/** Drops this node's copy of a cache that another node invalidated. */
export function dropCache(name: CacheName, db: object): void {
  droppers.get(name)?.(db);
}
