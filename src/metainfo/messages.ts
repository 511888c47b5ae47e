/**
 * English and French messages for the .torrent upload errors of errors.ts.
 *
 * Templates use `{param}` placeholders filled from TorrentError.params. Both catalogues must have
 * exactly one template per error code: `satisfies Record<TorrentErrorCode, string>` makes a
 * missing or extra key a compile error. A few params hold tokens rather than free text (the bencode
 * type names in `expected` and `type`, and `(root)` in `dict`); those are translated through
 * PARAM_VALUE_LABELS. Every other value (field paths, file names, numbers) is shown as is.
 */
import type { TorrentError, TorrentErrorCode } from './errors.js';

export type TorrentMessageLocale = 'en' | 'fr';

type Catalogue = Readonly<Record<TorrentErrorCode, string>>;

const en = {
  too_large: 'the .torrent file is {size} bytes long; the limit is {max} bytes',
  not_bencoded: 'the file is not valid bencoding ({detail}), so it is not a .torrent file',
  trailing_data: 'the file has {count} bytes of trailing data after the torrent, starting at byte {offset}',
  unsorted_keys:
    "the {dict} dictionary's keys are not sorted (non-canonical bencoding): key '{key}' at byte {offset} comes too late",
  duplicate_key: "the {dict} dictionary has the key '{key}' twice (non-canonical bencoding), at byte {offset}",
  non_canonical_integer:
    'the integer in {field} is not written canonically (leading zero or "-0"; non-canonical bencoding) at byte {offset}',
  non_canonical_string_length:
    'the length of the string in {field} has a leading zero (non-canonical bencoding) at byte {offset}',
  not_a_dictionary: 'the file holds {type}, not a dictionary: it is not a .torrent file',
  missing_info: "the torrent has no 'info' dictionary",
  missing_field: "the required field {field} is missing",
  wrong_type: '{field} must be {expected}',
  conflicting_fields: '{field} and {other} cannot both be present',
  unsupported_meta_version: "the torrent's meta version is {version}; only version 2 (BEP 52) is supported",
  bad_piece_length: 'the piece length {pieceLength} is not a power of two of at least 16384 bytes',
  bad_pieces_length: "the length of info.pieces ({length} bytes) is not a multiple of 20",
  pieces_count_mismatch:
    'info.pieces holds {count} piece hashes, but {totalSize} bytes in pieces of {pieceLength} bytes need {expected}',
  no_files: '{field} lists no files',
  empty_torrent: 'the torrent contains no data (all its files are empty)',
  too_many_files: 'the torrent has more than {max} files',
  negative_size: 'the size of {field} is negative ({size})',
  file_too_large: '{field} is {size} bytes long; the limit per file is {max} bytes',
  total_too_large: 'the torrent holds more than {max} bytes in total (at least {size})',
  bad_padding:
    '{field} is a padding file (BEP 47) of {size} bytes that does not end on a piece boundary (ends at byte {end}, pieces of {pieceLength} bytes)',
  path_empty: '{field} is an empty path',
  path_too_deep: '{field} has {depth} path components; the limit is {max}',
  path_component_empty: '{field} is an empty path component',
  path_component_dot: "{field}: path component '{component}' is not allowed",
  path_component_separator: "{field}: path component '{component}' contains a path separator ('/' or '\\')",
  path_component_control_char: "{field}: path component '{component}' contains the control character {char}",
  path_component_invalid_utf8: "{field}: path component '{component}' is not valid UTF-8",
  path_component_reserved_name: "{field}: path component '{component}' is a reserved device name on Windows",
  path_component_trailing_dot_space: "{field}: path component '{component}' ends with a dot or a space",
  path_component_too_long: "{field}: path component '{component}' is {bytes} bytes long; the limit is {max}",
  duplicate_path: "{field}: the path '{path}' is already used by {other}",
  path_conflict: "{field}: '{path}' is both a file and a directory (see {other})",
  file_tree_mixed_node: "{field} mixes a file entry ('') with other entries",
  file_tree_empty_directory: '{field} is an empty directory',
  bad_pieces_root: "{field}.pieces root is {length} bytes long; it must be 32",
  missing_piece_layer: "{field} is larger than one piece but 'piece layers' has no entry for its pieces root {root}",
  bad_piece_layer_length:
    "the piece layer of {field} (pieces root {root}) is {length} bytes long; it must be {expected}",
  piece_layer_mismatch: "the piece layer of {field} does not hash to its pieces root {root}",
  piece_layer_unused: "'piece layers' has an entry for {root}, which is not the pieces root of any file larger than one piece",
  hybrid_file_count_mismatch: 'this hybrid torrent lists {v1} files in info.files but {v2} in info.file tree',
  hybrid_file_mismatch:
    "in this hybrid torrent, file {index} is '{v1Path}' ({v1Size} bytes) in info.files but '{v2Path}' ({v2Size} bytes) in info.file tree",
  internal_error: 'the file could not be read because of an internal error ({detail})',
} as const satisfies Catalogue;

const fr = {
  too_large: 'le fichier .torrent fait {size} octets ; la limite est de {max} octets',
  not_bencoded: "le fichier n’est pas encodé en bencode valide (erreur à l’octet {offset}) : ce n’est pas un fichier .torrent",
  trailing_data: 'le fichier contient {count} octets en trop après le torrent, à partir de l’octet {offset}',
  unsorted_keys:
    "les clés du dictionnaire {dict} ne sont pas triées (bencode non canonique) : la clé '{key}' à l’octet {offset} arrive trop tard",
  duplicate_key: "le dictionnaire {dict} contient deux fois la clé '{key}' (bencode non canonique), à l’octet {offset}",
  non_canonical_integer:
    "l’entier de {field} n’est pas écrit sous forme canonique (zéro initial ou « -0 » ; bencode non canonique) à l’octet {offset}",
  non_canonical_string_length:
    'la longueur de la chaîne de {field} commence par un zéro (bencode non canonique) à l’octet {offset}',
  not_a_dictionary: "le fichier contient {type} et non un dictionnaire : ce n’est pas un fichier .torrent",
  missing_info: "le torrent n’a pas de dictionnaire « info »",
  missing_field: 'le champ obligatoire {field} est absent',
  wrong_type: '{field} doit être {expected}',
  conflicting_fields: '{field} et {other} ne peuvent pas être présents tous les deux',
  unsupported_meta_version: 'la version de métadonnées du torrent est {version} ; seule la version 2 (BEP 52) est prise en charge',
  bad_piece_length: "la taille de pièce {pieceLength} n’est pas une puissance de deux d’au moins 16384 octets",
  bad_pieces_length: "la longueur de info.pieces ({length} octets) n’est pas un multiple de 20",
  pieces_count_mismatch:
    'info.pieces contient {count} empreintes de pièces, mais {totalSize} octets en pièces de {pieceLength} octets en demandent {expected}',
  no_files: '{field} ne contient aucun fichier',
  empty_torrent: 'le torrent ne contient aucune donnée (tous ses fichiers sont vides)',
  too_many_files: 'le torrent contient plus de {max} fichiers',
  negative_size: 'la taille de {field} est négative ({size})',
  file_too_large: '{field} fait {size} octets ; la limite par fichier est de {max} octets',
  total_too_large: 'le torrent contient plus de {max} octets au total (au moins {size})',
  bad_padding:
    "{field} est un fichier de remplissage (BEP 47) de {size} octets qui ne se termine pas sur une limite de pièce (il finit à l’octet {end}, pièces de {pieceLength} octets)",
  path_empty: '{field} est un chemin vide',
  path_too_deep: '{field} compte {depth} composants de chemin ; la limite est de {max}',
  path_component_empty: '{field} est un composant de chemin vide',
  path_component_dot: "{field} : le composant de chemin '{component}' n’est pas autorisé",
  path_component_separator: "{field} : le composant de chemin '{component}' contient un séparateur de chemin ('/' ou '\\')",
  path_component_control_char: "{field} : le composant de chemin '{component}' contient le caractère de contrôle {char}",
  path_component_invalid_utf8: "{field} : le composant de chemin '{component}' n’est pas de l’UTF-8 valide",
  path_component_reserved_name: "{field} : le composant de chemin '{component}' est un nom de périphérique réservé sous Windows",
  path_component_trailing_dot_space: "{field} : le composant de chemin '{component}' se termine par un point ou une espace",
  path_component_too_long: "{field} : le composant de chemin '{component}' fait {bytes} octets ; la limite est de {max}",
  duplicate_path: "{field} : le chemin '{path}' est déjà utilisé par {other}",
  path_conflict: "{field} : '{path}' est à la fois un fichier et un répertoire (voir {other})",
  file_tree_mixed_node: "{field} mélange une entrée de fichier ('') avec d’autres entrées",
  file_tree_empty_directory: '{field} est un répertoire vide',
  bad_pieces_root: '{field}.pieces root fait {length} octets ; il doit en faire 32',
  missing_piece_layer:
    "{field} est plus grand qu’une pièce mais « piece layers » n’a pas d’entrée pour sa racine de pièces {root}",
  bad_piece_layer_length:
    'la couche de pièces de {field} (racine {root}) fait {length} octets ; elle doit en faire {expected}',
  piece_layer_mismatch: "la couche de pièces de {field} ne correspond pas à sa racine de pièces {root}",
  piece_layer_unused:
    "« piece layers » contient une entrée pour {root}, qui n’est la racine de pièces d’aucun fichier plus grand qu’une pièce",
  hybrid_file_count_mismatch: 'ce torrent hybride liste {v1} fichiers dans info.files mais {v2} dans info.file tree',
  hybrid_file_mismatch:
    "dans ce torrent hybride, le fichier {index} est '{v1Path}' ({v1Size} octets) dans info.files mais '{v2Path}' ({v2Size} octets) dans info.file tree",
  internal_error: "le fichier n’a pas pu être lu à cause d’une erreur interne ({detail})",
} as const satisfies Catalogue;

export const torrentErrorMessages: Readonly<Record<TorrentMessageLocale, Catalogue>> = { en, fr };

/** Param names whose values are tokens to translate rather than text to show as is. */
const LOCALISED_PARAMS: ReadonlySet<string> = new Set(['expected', 'type', 'dict']);

/** Translations of the token values of LOCALISED_PARAMS (a value not listed is shown as is). */
export const PARAM_VALUE_LABELS: Readonly<Record<TorrentMessageLocale, Readonly<Record<string, string>>>> = {
  en: {
    integer: 'an integer',
    string: 'a byte string',
    list: 'a list',
    dict: 'a dictionary',
    '(root)': 'top-level',
  },
  fr: {
    integer: 'un entier',
    string: 'une chaîne d’octets',
    list: 'une liste',
    dict: 'un dictionnaire',
    '(root)': 'racine',
  },
};

/** Fills a template's `{param}` placeholders; unknown placeholders are left as they are. */
export function fillTemplate(
  template: string,
  params: Readonly<Record<string, string | number>>,
  locale: TorrentMessageLocale,
): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = String(params[name]);
    if (LOCALISED_PARAMS.has(name)) {
      const labels = PARAM_VALUE_LABELS[locale];
      if (Object.hasOwn(labels, value)) return labels[value]!;
    }
    return value;
  });
}

/** The message for an error in the given locale. */
export function formatTorrentError(
  err: Pick<TorrentError, 'code' | 'params'>,
  locale: TorrentMessageLocale,
): string {
  return fillTemplate(torrentErrorMessages[locale][err.code], err.params, locale);
}
