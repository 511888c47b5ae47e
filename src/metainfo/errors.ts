/**
 * Why a .torrent upload was rejected: the closed list of error codes and the error shape shared by
 * the parser (torrent-file.ts) and the message catalogue (messages.ts).
 *
 * A TorrentError carries a stable `code` (for programs and translations), an English `message`
 * that names the defect precisely, and the `params` that the English and French templates of
 * messages.ts interpolate. `field` params are locale-neutral paths into the metainfo, written
 * like `info.files[3].path[1]` or `info.file tree["dir"]["a.txt"]`.
 */

export const TORRENT_ERROR_CODES = [
  // The file as a whole.
  'too_large',
  'not_bencoded',
  'trailing_data',
  'unsorted_keys',
  'duplicate_key',
  'non_canonical_integer',
  'non_canonical_string_length',
  'not_a_dictionary',
  // Fields.
  'missing_info',
  'missing_field',
  'wrong_type',
  'conflicting_fields',
  'unsupported_meta_version',
  'bad_piece_length',
  'bad_pieces_length',
  'pieces_count_mismatch',
  // Files and sizes.
  'no_files',
  'empty_torrent',
  'too_many_files',
  'negative_size',
  'file_too_large',
  'total_too_large',
  'bad_padding',
  // Paths.
  'path_empty',
  'path_too_deep',
  'path_component_empty',
  'path_component_dot',
  'path_component_separator',
  'path_component_control_char',
  'path_component_invalid_utf8',
  'path_component_reserved_name',
  'path_component_trailing_dot_space',
  'path_component_too_long',
  'duplicate_path',
  'path_conflict',
  // BEP 52 (v2) structure.
  'file_tree_mixed_node',
  'file_tree_empty_directory',
  'bad_pieces_root',
  'missing_piece_layer',
  'bad_piece_layer_length',
  'piece_layer_mismatch',
  'piece_layer_unused',
  // Hybrid torrents: the v1 file list and the v2 file tree must describe the same files.
  'hybrid_file_count_mismatch',
  'hybrid_file_mismatch',
  // A bug in the parser itself (never expected; the property tests look for it).
  'internal_error',
] as const;

export type TorrentErrorCode = (typeof TORRENT_ERROR_CODES)[number];

export type TorrentErrorParams = Record<string, string | number>;

export interface TorrentError {
  code: TorrentErrorCode;
  /** English, names the defect precisely (the `en` template with the params filled in). */
  message: string;
  params: TorrentErrorParams;
}

const CODE_SET: ReadonlySet<string> = new Set(TORRENT_ERROR_CODES);

export function isTorrentErrorCode(s: string): s is TorrentErrorCode {
  return CODE_SET.has(s);
}
