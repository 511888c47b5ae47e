/**
 * The default taxonomy, installed on first run: a two-level category tree and typed terms,
 * modelled on T411's (recorded `categories/tree` and `terms/tree`, November 2015).
 *
 * Ids are explicit and stable: categories, term types and terms keep T411's ids wherever T411 had
 * the same thing, so that clients written for T411's API find the ids they know (a T411-compatible
 * API comes later). Ids of 5000 and above are Essaim's own additions. French names follow T411's
 * labels; English names are Essaim's.
 *
 * What is not shipped: T411's adult section (the `adult` column exists, administrators may create
 * such categories), its unnamed leftover parent 382, and the few terms about bypassing software
 * protection.
 *
 * Term positions: `ordered` types keep the order written here (positions 1, 2, ...); the others
 * get position 0 everywhere and are shown in alphabetical order of the reader's language.
 */
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/errors.js';
import type { Database, TermMode } from '../../db/schema.js';
import { chunksFor } from '../../db/util.js';

/** A term: [id, English name, French name (default: the English one)]. */
export type TermSpec = readonly [id: number, en: string, fr?: string];

export interface TermTypeSpec {
  id: number;
  en: string;
  fr: string;
  mode: TermMode;
  /** Keep the written order (else alphabetical). */
  ordered: boolean;
  terms: readonly TermSpec[];
}

export interface CategorySpec {
  id: number;
  /** Unique URL slug. */
  slug: string;
  icon: string;
  en: string;
  fr: string;
  /** Subcategories: the term types bound to it, in display order. */
  types?: readonly number[];
  /** Parents: their subcategories, in display order. */
  children?: readonly CategorySpec[];
}

export const DEFAULT_TERM_TYPES: readonly TermTypeSpec[] = [
  { id: 2, en: 'Video - Genre', fr: 'Vidéo - Genre', mode: 'multi', ordered: false, terms: [
    [25, 'Action'], [1232, 'Wildlife', 'Animalier'], [26, 'Animation'], [1019, 'Arts'],
    [27, 'Martial arts', 'Arts Martiaux'], [28, 'Adventure', 'Aventure'], [1155, 'Ballet'], [29, 'Biopic'],
    [1178, 'Choreography', 'Chorégraphie'], [30, 'Classic', 'Classique'], [31, 'Comedy', 'Comédie'],
    [1186, 'Comedy drama', 'Comédie dramatique'], [1179, 'Short film', 'Court-métrage'],
    [1142, 'Cooking', 'Culinaire'], [1177, 'Contemporary dance', 'Danse contemporaine'],
    [37, 'Miscellaneous', 'Divers'], [38, 'Documentary', 'Documentaire'], [39, 'Drama', 'Drame'],
    [1018, 'Discovery', 'Découverte'], [526, 'Investigation', 'Enquête'], [40, 'Horror', 'Epouvante & Horreur'],
    [42, 'Spy', 'Espionnage'], [43, 'Family', 'Famille'], [44, 'Fantasy', 'Fantastique'], [1013, 'Fiction'],
    [32, 'Film noir', 'Film Noir'], [47, 'Gore'], [45, 'War', 'Guerre'], [46, 'Historical', 'Historique'],
    [1157, 'Humour'], [48, 'Interactive', 'Intéractif'], [49, 'Courtroom', 'Judiciaire'],
    [1020, 'Literature', 'Litterature'], [50, 'Manga'], [51, 'Musical'], [52, 'Cult B-movie', 'Nanar'],
    [926, 'Nature'], [1154, 'Opera', 'Opéra'], [1156, 'Rock opera', 'Opéra Rock'],
    [1021, 'Philosophy', 'Philosophie'], [55, 'Crime', 'Policier'],
    [1010, 'Politics and geopolitics', 'Politique & Géopolitique'], [53, 'Educational', 'Pédagogie'],
    [54, 'Sword and sandal', 'Péplum'], [1001, 'Religions and beliefs', 'Religions & Croyances'], [57, 'Romance'],
    [1000, 'Health and well-being', 'Santé & Bien-être'], [58, 'Science fiction'],
    [999, 'Science and technology', 'Sciences & Technologies'], [1017, 'Society', 'Société'],
    [1002, 'Sports and leisure', 'Sports & Loisirs'], [59, 'Thriller'], [1032, 'Theatre', 'Théatre'],
    [1029, 'Reality TV', 'Télé-Réalité'], [1076, 'TV variety', 'Variétés TV'],
    [1030, 'Travel and tourism', 'Voyages & Tourisme'], [60, 'Western'],
  ] },
  { id: 7, en: 'Video - Quality', fr: 'Vidéo - Qualité', mode: 'single', ordered: true, terms: [
    [18, 'VCD/SVCD/VHS rip', 'VCD/SVCD/VHSrip'], [13, 'DVD-5 (under 4.37 GB)', 'DVD-R 5 [DVD < 4.37GB]'],
    [14, 'DVD-9 (over 4.37 GB)', 'DVD-R 9 [DVD > 4.37GB]'], [10, 'DVDrip (from a DVD)', 'DVDrip [Rip depuis DVD-R]'],
    [11, 'TVrip (SD, from a TV source)', 'TVrip [Rip SD (non HD) depuis Source HD/SD]'],
    [12, 'TVrip HD 720p (from an HD source)', 'TVripHD 720 [Rip HD depuis Source HD]'],
    [1162, 'TVrip HD 1080p (from an HD source)', 'TVripHD 1080 [Rip HD depuis Source HD]'], [19, 'WEBrip'],
    [1233, 'WEB-DL', 'Web-Dl'], [1175, 'WEB-DL 720p', 'Web-Dl 720'], [1174, 'WEB-DL 1080p', 'Web-Dl 1080'],
    [1182, 'WEB-DL 4K', 'Web-Dl 4K'],
    [8, 'BDrip/BRrip (SD, from a Blu-ray or HD source)', 'BDrip/BRrip [Rip SD (non HD) depuis Bluray ou HDrip]'],
    [1218, 'HDlight 720p (light HD encode)', 'HDlight 720 [Rip HD-léger depuis source HD]'],
    [1208, 'HDlight 1080p (light HD encode)', 'HDlight 1080 [Rip HD-léger depuis source HD]'],
    [15, 'HDrip 720p (from a Blu-ray)', 'HDrip 720 [Rip HD depuis Bluray]'],
    [16, 'HDrip 1080p (from a Blu-ray)', 'HDrip 1080 [Rip HD depuis Bluray]'],
    [1219, 'HDrip 4K (from a 4K source)', 'HDrip 4k [Rip HD 4k depuis source 4k]'],
    [17, 'Blu-ray (full disc)', 'Bluray [Full]'], [1220, 'Blu-ray (remux)', 'Bluray [Remux]'],
    [1171, 'Blu-ray 4K (full disc or remux)', 'Bluray 4K [Full ou Remux]'],
  ] },
  { id: 9, en: 'Video - Type', fr: 'Vidéo - Type', mode: 'single', ordered: true, terms: [
    [22, '2D (standard)', '2D (Standard)'], [23, '3D (native, as produced)', '3D Natif (Production)'],
    [24, '3D (converted in post-production)', '3D Converti (Post-Production)'],
    [1045, '3D (unofficial conversion)', '3D Converti (Non officiel/Amateur)'],
  ] },
  { id: 10, en: 'Video game - Genre', fr: 'Jeu vidéo - Genre', mode: 'multi', ordered: false, terms: [
    [102, 'Action'], [103, 'Adventure', 'Aventure'], [104, 'Beat \'em up', 'Beat\'em all'],
    [1231, 'City builder', 'City Builder'], [105, 'Fighting', 'Combat'], [106, 'Racing', 'Course'], [1222, 'DLC'],
    [1053, 'Educational', 'Educatif'], [1229, 'Pinball', 'Flipper'], [107, 'FPS'], [108, 'Management', 'Gestion'],
    [1224, 'Hack \'n\' slash', 'hack\'n slash'], [109, 'Stealth', 'Infiltration'],
    [110, 'Role-playing', 'Jeu de Rôle'], [1225, 'Edutainment', 'Ludo-Educatif'], [111, 'MMO'],
    [1223, 'Hidden objects', 'Objets cachés'], [112, 'Party game', 'Party Game'], [113, 'Platform', 'Plates-formes'],
    [114, 'Point\'n\'click', 'Point\'n\'Click'], [115, 'Puzzle', 'Puzzle-Game'], [1226, 'Roguelike'],
    [117, 'Rhythm', 'Rythme'], [116, 'Thinking', 'Réflexion'], [118, 'Shoot \'em up', 'Shoot\'em up'],
    [119, 'Simulation'], [120, 'Sports', 'Sport'], [121, 'Strategy', 'Stratégie'],
    [122, 'Survival horror', 'Survival-Horror'], [123, 'Tactics', 'Tactique'],
    [1228, 'Tower defense', 'Tower Defense'], [1227, 'TPS'], [1087, 'Update'],
    [1230, 'Visual novel', 'Visual Novel'], [124, 'Wargame'],
  ] },
  { id: 11, en: 'Software - Genre', fr: 'Application - Genre', mode: 'single', ordered: false, terms: [
    [125, 'Accessibility', 'Accessibilité'], [126, 'Administration'], [127, 'Calendars', 'Agenda'],
    [128, 'Photo albums and viewers', 'Album et visionneuse'], [129, '2D and 3D animation', 'Animation 2D et 3D'],
    [130, 'Pets and animals', 'Animaux'], [131, 'Anonymity', 'Anonymat'], [132, 'Anti-spam'], [133, 'Anti-spyware'],
    [134, 'Anti-trojan'], [135, 'Antivirus'], [136, 'Architecture'],
    [137, 'Website mirroring', 'Aspiration de site'], [138, 'Astrology', 'Astrologie et voyance'],
    [139, 'Astronomy and space', 'Astronomie et espace'], [140, 'Audio'], [141, 'Cars', 'Automobile'],
    [142, 'DIY', 'Bricolage'], [143, 'Office', 'Bureautique'], [144, 'CAD and DTP', 'CAO et PAO'],
    [145, 'FTP clients', 'Client FTP'], [146, 'Codecs', 'Codec'], [147, 'E-commerce', 'Commerce électronique'],
    [148, 'Community', 'Communauté'], [149, 'Communication'], [150, 'Compression'],
    [151, 'Accounting', 'Comptabilité'], [152, 'Parental control', 'Contrôle parental'], [153, 'Mail', 'Courrier'],
    [154, 'Encryption and security', 'Cryptage et sécurité'], [155, 'Cooking', 'Cuisine'],
    [156, 'Development', 'Développement'], [1084, 'Web development', 'Développement WEB'],
    [157, 'Website editors', 'Editeur de site'], [158, 'Multimedia editing', 'Edition multimédia'],
    [159, 'Education', 'Education et scolarité'], [160, 'Electronics', 'Electronique'],
    [161, 'Firewalls', 'Firewall'], [162, 'Firmware'], [165, 'File managers', 'Gestionnaire de fichiers'],
    [166, 'Website managers', 'Gestionnaire de sites'], [167, 'Graphics', 'Graphisme'],
    [168, 'Disc burning', 'Gravure'], [163, 'Genealogy', 'Généalogie'], [164, 'Geography', 'Géographie'],
    [169, 'Media players', 'Lecteur multimédia'], [171, 'Home', 'Maison'], [172, 'Music', 'Musique'],
    [1203, 'Weather', 'Météo'], [173, 'Web browsers', 'Navigateur Web'],
    [174, 'Cleaning and optimisation', 'Nettoyage et Optimisation'], [175, 'Organisers', 'Organiseur'],
    [176, 'File sharing', 'Partage de fichiers'], [1062, 'Driving licence', 'Permis'],
    [1202, 'Photography', 'Photographie'], [177, 'Scheduling', 'Planification'],
    [178, 'Recognition', 'Reconnaisance'], [180, 'Registry', 'Registre'],
    [179, 'Search engine optimisation', 'Référencement'], [181, 'Networking', 'Réseau'], [182, 'Health', 'Santé'],
    [183, 'Backup', 'Sauvegarde'], [184, 'Science'], [185, 'FTP servers', 'Serveur FTP'], [186, 'Sport'],
    [187, 'System', 'Système'], [188, 'Operating systems', 'Système d\'exploitation'],
    [189, 'Translators', 'Traducteur'], [190, 'Utilities', 'Utilitaire'], [191, 'Video', 'Vidéo'],
    [192, 'Wallpapers', 'Wallpaper'], [193, 'Webcams', 'Webcam'],
  ] },
  { id: 12, en: 'eBook - Genre', fr: 'eBook - Genre', mode: 'multi', ordered: false, terms: [
    [194, 'News', 'Actualités'], [195, 'Animals', 'Animaux'], [196, 'Art'], [539, 'Astrology', 'Astrologie'],
    [1050, 'Cars, motorbikes, vehicles', 'Auto-Moto-Véhicules'], [1048, 'Adventure', 'Aventure'],
    [198, 'Beauty', 'Beauté'], [199, 'Well-being', 'Bien-être'], [200, 'Biography', 'Biographie'],
    [201, 'DIY', 'Bricolage'], [202, 'Cinema', 'Cinéma'], [1139, 'Comedy', 'Comédie'], [1049, 'Tales', 'Conte'],
    [204, 'Food and wine', 'Cuisine et Vin'], [206, 'Dictionaries', 'Dictionnaire'], [207, 'Law', 'Droit'],
    [205, 'Decoration', 'Décoration'], [1124, 'Economics', 'Economie'], [208, 'Encyclopedias', 'Encyclopédies'],
    [210, 'Esotericism', 'Esotérisme'], [1005, 'Fantastic', 'Fantastique'], [211, 'Fantasy'],
    [1016, 'War', 'Guerre'], [212, 'Heroic fantasy', 'Heroic Fantasy'], [213, 'History', 'Histoire'],
    [214, 'Humour'], [215, 'Computing', 'Informatique'], [216, 'Internet'], [217, 'Gardening', 'Jardinage'],
    [1173, 'Children', 'Jeunesse'], [1149, 'Video games', 'Jeux vidéo'], [1022, 'Journalism', 'Journalisme'],
    [1026, 'Linguistics', 'Linguistique'], [218, 'Literature', 'Littérature'], [219, 'Leisure', 'Loisir'],
    [1063, 'Manuals', 'Manuel'], [222, 'Music', 'Musique'], [221, 'Medicine', 'Médecine'], [223, 'Nature'],
    [1004, 'Short stories', 'Nouvelles'], [224, 'Paranormal'], [225, 'Homework help', 'Parascolaire'],
    [1041, 'Sheet music', 'Partitions'], [1014, 'Philosophy', 'Philosophie'], [209, 'Photography', 'Photos'],
    [226, 'Crime fiction', 'Polar'], [227, 'Detective', 'Policier'], [1015, 'Politics', 'Politique'],
    [1176, 'Poetry', 'Poésie'], [1024, 'Professional', 'Professionnel'], [229, 'Religion'], [230, 'Novels', 'Roman'],
    [231, 'Health', 'Santé'], [232, 'Science'], [233, 'Humanities', 'Science humaine'],
    [234, 'Science fiction', 'Science-fiction'], [235, 'School', 'Scolaire'], [1025, 'Society', 'Société'],
    [236, 'Spirituality', 'Spiritualité'], [237, 'Sport'], [238, 'Suspense'], [239, 'Technical', 'Technique'],
    [240, 'Horror', 'Terreur'], [241, 'Thriller'], [1140, 'Theatre', 'Théâtre'], [242, 'Tourism', 'Tourisme'],
    [1023, 'Practical life', 'Vie pratique'], [243, 'Travel', 'Voyage'],
  ] },
  { id: 14, en: 'Audio - Genre', fr: 'Audio - Genre', mode: 'multi', ordered: false, terms: [
    [835, 'Acid house'], [836, 'Acid jazz'], [1071, 'African', 'Africaine'], [1009, 'Alternative'],
    [854, 'Ambient', 'Ambiance'], [837, 'Film soundtrack', 'B.O/OST de film'],
    [1148, 'Video game soundtrack', 'B.O/OST de jeu vidéo'], [1027, 'Baroque'], [857, 'Black metal'], [858, 'Blues'],
    [1207, 'Boogie'], [859, 'Bossa nova'], [860, 'Britpop'], [1028, 'Celtic', 'Celtique'], [1132, 'Chill out'],
    [861, 'Circus', 'Cirque'], [862, 'Classical', 'Classique'], [863, 'Compilation'],
    [1036, 'Musical theatre', 'Comédie musicale'], [864, 'Concerto'], [849, 'Country'], [1185, 'Creole', 'Créole'],
    [841, 'Dance Pop'], [1169, 'Dark Metal'], [865, 'Death metal'], [842, 'Disco'], [840, 'Miscellaneous', 'Divers'],
    [1146, 'Doom Metal'], [866, 'Drum & bass'], [1131, 'Drumstep'], [1007, 'Dubstep'], [867, 'East Coast'],
    [1008, 'Electro'], [1129, 'Electro House'], [1006, 'Electronic', 'Electronique'], [850, 'Children', 'Enfants'],
    [855, 'Eurodance'], [1164, 'Experimental'], [1161, 'Flamenco'], [838, 'Folk'], [868, 'Folk Pop'],
    [869, 'Free Jazz & Avant-garde'], [844, 'Funk'], [1123, 'Fusion'], [843, 'Fusion & Jazz'], [1206, 'G-funk'],
    [847, 'Gangsta rap'], [851, 'Garage'], [845, 'Gospel'], [852, 'Gothic', 'Gothique'], [1145, 'Grind Core'],
    [846, 'Grunge'], [871, 'Hard Core'], [872, 'Hard Rock'], [873, 'Hard Rock Metal'], [1168, 'Heavy Metal'],
    [848, 'Hip-Hop'], [874, 'House'], [875, 'Humour'], [876, 'Anthems', 'Hymnes'], [1127, 'Indie'],
    [1138, 'Indie dance'], [1011, 'Industrial', 'Industriel'], [856, 'Instrumental'],
    [1147, 'Intelligent Dance Music'], [877, 'Jazz'], [1135, 'Jump Up'], [878, 'Jungle'],
    [879, 'Bandstand', 'Kiosque'], [880, 'Latin Jazz'], [1073, 'Readings', 'Lecture'], [1133, 'Liquidstep'],
    [1141, 'Metal'], [881, 'Progressive metal', 'Metal progressif'], [1137, 'Moombahton'], [853, 'Motown'],
    [882, 'Sacred music', 'Musique sacrée'], [883, 'World music', 'Musiques du monde'],
    [884, 'Military music', 'Musiques militaires'], [1183, 'Medieval', 'Médiéval'], [885, 'New age'],
    [886, 'New wave'], [1134, 'Nu Disco'], [887, 'Old School'], [1043, 'Oldies'],
    [888, 'Opera and voice', 'Opéra et voix'], [1074, 'Plays', 'Pièce'], [889, 'Pop'], [891, 'Pop R&B'],
    [892, 'Pop Reggae'], [893, 'Pop Rock'], [890, 'Electropop', 'Pop Électro'], [1042, 'Popcorn'],
    [1077, 'Post-Rock'], [1128, 'Progressive House'], [894, 'Punk'], [895, 'R&B'], [1038, 'Radio'],
    [898, 'Ragtime', 'Rag time'], [896, 'Raggamuffin'], [897, 'Rap'], [899, 'Reggae'], [900, 'Relaxation'],
    [901, 'Remix'], [902, 'Rock'], [903, 'Alternative rock', 'Rock alternatif'],
    [904, 'Gothic rock', 'Rock gothique'], [905, 'Hardcore rock', 'Rock hardcore'],
    [906, 'Progressive rock', 'Rock progressif'], [1205, 'Roots'], [907, 'Rhythm and blues', 'Rythm and blues'],
    [1072, 'Salsa'], [908, 'Samba'], [1181, 'Shoegaze'], [909, 'Ska'], [910, 'Soul'], [911, 'Speed Metal'],
    [912, 'Symphony', 'Symphonie'], [913, 'Techno'], [914, 'Thrash'], [915, 'Trance'], [1130, 'Trap'],
    [916, 'Tribal'], [1012, 'Trip-hop'], [1204, 'Underground'], [917, 'French variety', 'Variété française'],
    [918, 'International variety', 'Variété internationale'], [919, 'Vocal and traditional', 'Vocal & Traditionnel'],
    [920, 'West Coast'], [1221, 'Zeuhl'], [1051, 'Zouk'],
  ] },
  { id: 15, en: 'Emulation - System', fr: 'Emulation - Système', mode: 'single', ordered: false, terms: [
    [446, 'Amstrad CPC'], [447, 'Amstrad GX-4000'], [448, 'Amstrad PCW'], [449, 'Apple I'], [450, 'Apple II'],
    [451, 'Apple III'], [452, 'Apple Macintosh'], [453, 'Apple PowerMac'], [454, 'Atari 2600'], [455, 'Atari 7800'],
    [456, 'Atari Falcon'], [457, 'Atari Jaguar'], [458, 'Atari Jaguar II'], [459, 'Atari Lynx'],
    [460, 'Atari Lynx II'], [461, 'Atari ST'], [462, 'Atari TT'], [463, 'Other', 'Autres'], [464, 'Coleco Arcade'],
    [465, 'Coleco Colecovision'], [466, 'Coleco Gemini'], [467, 'Coleco PlayPal'], [468, 'Coleco Quiz Wiz'],
    [469, 'Colecovision Adam'], [471, 'Commodore 128'], [470, 'Commodore 64'], [472, 'Commodore Amiga'],
    [473, 'Commodore Amiga CD32'], [474, 'Commodore Amiga CDTV'], [475, 'Commodore C64'], [476, 'GamePark GP2X'],
    [477, 'GamePark GP32'], [478, 'GamePark GPI'], [479, 'GamePark XGP'], [480, 'Magnavox/Philips CD-i'],
    [481, 'Magnavox/Philips Videopac'], [483, 'Milton Bradley Microvision'], [484, 'Milton Bradley Vectrex'],
    [485, 'MSX'], [624, 'Multiple machines', 'Multiple Machines'], [486, 'NEC CoreGrafX'], [487, 'NEC PC-Engine'],
    [488, 'NEC PC-FX'], [489, 'NEC SuperGrafX'], [490, 'NEC TurboGrafx'], [491, 'Nintendo Game Boy'],
    [492, 'Nintendo Game Boy Advance'], [493, 'Nintendo GameCube'], [494, 'Nintendo NES'], [495, 'Nintendo 64'],
    [497, 'Super Nintendo'], [498, 'Nintendo Virtual Boy'], [500, 'Nokia N-Gage'], [501, 'Nokia N-Gage QD'],
    [502, 'Oric Atmos'], [503, 'Oric'], [504, 'Origin 2000'], [505, 'Sega Dreamcast'], [506, 'Sega Game Gear'],
    [507, 'Sega Master System'], [508, 'Sega Megadrive'], [509, 'Sega Saturn'], [510, 'Sinclair ZX Spectrum'],
    [511, 'Sinclair ZX80'], [512, 'Sinclair ZX81'], [513, 'SNK Neo-Geo'], [514, 'SNK Neo-Geo Pocket'],
    [515, 'Sony PlayStation'], [518, '3DO'], [519, 'Thomson MO5'], [520, 'Thomson TO16'], [521, 'Thomson TO7'],
    [522, 'Thomson TO8'], [523, 'Thomson TO9'], [524, 'VTech V.Smile'], [525, 'VTech V.Smile Pocket'],
  ] },
  { id: 16, en: 'Audio - Format', fr: 'Audio - Format', mode: 'single', ordered: false, terms: [
    [533, 'MP3', 'Mp3'], [685, 'AAC (M4A)', 'Aac (M4a)'], [534, 'Ogg'], [538, 'WMA', 'Wma'], [1085, 'MPC', 'Mpc'],
    [529, 'FLAC (16-bit)', 'Flac (16 bit)'], [1184, 'FLAC (24-bit)', 'Flac (24 bit)'],
    [528, 'ALAC (M4A)', 'Alac (M4a)'], [537, 'WavPack', 'Wavpack'], [532, 'Monkey\'s Audio'], [1069, 'WAV', 'Wav'],
    [1070, 'AIFF', 'Aif'], [1166, 'DSD', 'Dsd'], [527, 'AC3', 'Ac3'], [530, 'DTS', 'Dts'],
    [1167, 'Blu-ray Pure Audio', 'Bluray Pure Audio'], [535, 'Samples'],
  ] },
  { id: 17, en: 'Video - Language', fr: 'Vidéo - Langue', mode: 'single', ordered: true, terms: [
    [541, 'French (France)', 'Français (VFF/Truefrench)'], [719, 'French (Quebec)', 'Québécois (VFQ/French)'],
    [542, 'Multi (French included)', 'Multi (Français inclus)'],
    [1160, 'Multi (Quebec French included)', 'Multi (Québécois inclus)'], [540, 'English', 'Anglais'],
    [721, 'Original version, French subtitles (VOSTFR)', 'VOSTFR'],
    [720, 'French, French subtitles (VFSTFR)', 'VFSTFR'], [722, 'Silent', 'Muet'],
  ] },
  { id: 18, en: 'Sony console', fr: 'Console Sony', mode: 'single', ordered: true, terms: [
    [613, 'PlayStation', 'Playstation'], [614, 'PlayStation 2', 'Playstation2'],
    [617, 'PlayStation 3', 'Playstation3'], [1159, 'PlayStation 4', 'Playstation4'],
    [5002, 'PlayStation 5', 'Playstation5'], [615, 'PSP', 'Psp'], [921, 'PS Vita', 'Vita'],
  ] },
  { id: 26, en: 'GPS - System', fr: 'Gps - Système', mode: 'single', ordered: false, terms: [
    [922, 'TomTom', 'Tomtom'], [923, 'Garmin'], [924, 'Navigon'], [925, 'Mio'], [1086, 'Navteq'],
  ] },
  { id: 29, en: 'Audio - Type', fr: 'Audio - Type', mode: 'single', ordered: true, terms: [
    [629, 'Album'], [1191, 'EP', 'Ep'], [630, 'Discography', 'Discographie'],
    [1192, 'Complete works, box set', 'Intégrale/Coffret'], [1234, 'Live, concert', 'Live/Concert'],
    [686, 'Mix, medley', 'Mix/Medley'], [697, 'Film or game soundtrack', 'Bande originale de film/jeu'],
    [1033, 'Film audio track', 'Piste audio de film'], [1039, 'Radio'],
  ] },
  { id: 32, en: 'Mobile system', fr: 'Système', mode: 'single', ordered: false, terms: [
    [653, 'Android', 'Androïd'], [655, 'iOS'], [656, 'Windows Mobile'], [1136, 'Windows RT'],
    [654, 'webOS', 'WebOS'], [652, 'Symbian'], [831, 'Bada'], [832, 'BlackBerry (RIM)', 'RIM'], [833, 'MeeGo'],
  ] },
  { id: 34, en: 'Video - Device', fr: 'Vidéo - Système', mode: 'single', ordered: true, terms: [
    [684, 'PC, player, media box', 'PC/Platine/Lecteur Multimédia/etc'],
    [683, 'Smartphone, tablet, PSP, PS Vita', 'Smartphone/Tablette/PSP/PSVita'],
    [678, 'Nintendo DS/3DS', 'Nintendo Ds/3Ds'],
  ] },
  { id: 36, en: 'Microsoft console', fr: 'Console Microsoft', mode: 'single', ordered: true, terms: [
    [704, 'Xbox'], [705, 'Xbox 360'], [1158, 'Xbox One'], [5003, 'Xbox Series X|S'],
  ] },
  { id: 37, en: 'Nintendo console', fr: 'Console Nintendo', mode: 'single', ordered: true, terms: [
    [701, 'DS', 'Ds'], [702, '3DS', '3Ds'], [738, 'GameCube', 'Gamecube'], [703, 'Wii'], [1126, 'Wii U', 'WiiU'],
    [5001, 'Switch'],
  ] },
  { id: 43, en: 'Language', fr: 'Langue', mode: 'single', ordered: true, terms: [
    [729, 'French', 'Français'], [730, 'English', 'Anglais'],
    [731, 'Multi (French included)', 'Multi (Français inclus)'], [830, 'Japanese', 'Japonais'],
  ] },
  { id: 45, en: 'TV series - Season', fr: 'SérieTV - Saison', mode: 'single', ordered: true, terms: [
    [998, 'Complete series', 'Série intégrale'], [968, 'Season 01', 'Saison 01'], [969, 'Season 02', 'Saison 02'],
    [970, 'Season 03', 'Saison 03'], [971, 'Season 04', 'Saison 04'], [972, 'Season 05', 'Saison 05'],
    [973, 'Season 06', 'Saison 06'], [974, 'Season 07', 'Saison 07'], [975, 'Season 08', 'Saison 08'],
    [976, 'Season 09', 'Saison 09'], [977, 'Season 10', 'Saison 10'], [978, 'Season 11', 'Saison 11'],
    [979, 'Season 12', 'Saison 12'], [980, 'Season 13', 'Saison 13'], [981, 'Season 14', 'Saison 14'],
    [982, 'Season 15', 'Saison 15'], [983, 'Season 16', 'Saison 16'], [984, 'Season 17', 'Saison 17'],
    [985, 'Season 18', 'Saison 18'], [986, 'Season 19', 'Saison 19'], [987, 'Season 20', 'Saison 20'],
    [988, 'Season 21', 'Saison 21'], [989, 'Season 22', 'Saison 22'], [990, 'Season 23', 'Saison 23'],
    [991, 'Season 24', 'Saison 24'], [994, 'Season 25', 'Saison 25'], [992, 'Season 26', 'Saison 26'],
    [993, 'Season 27', 'Saison 27'], [995, 'Season 28', 'Saison 28'], [996, 'Season 29', 'Saison 29'],
    [997, 'Season 30', 'Saison 30'], [1068, 'Specials', 'Hors saison'], [1144, 'Not specified', 'Non communiqué'],
  ] },
  { id: 46, en: 'TV series - Episode', fr: 'SérieTV - Episode', mode: 'single', ordered: true, terms: [
    [936, 'Complete season', 'Saison complète'], [937, 'Episode 01', 'Épisode 01'],
    [938, 'Episode 02', 'Épisode 02'], [939, 'Episode 03', 'Épisode 03'], [940, 'Episode 04', 'Épisode 04'],
    [941, 'Episode 05', 'Épisode 05'], [942, 'Episode 06', 'Épisode 06'], [943, 'Episode 07', 'Épisode 07'],
    [944, 'Episode 08', 'Épisode 08'], [946, 'Episode 09', 'Épisode 09'], [947, 'Episode 10', 'Épisode 10'],
    [948, 'Episode 11', 'Épisode 11'], [949, 'Episode 12', 'Épisode 12'], [950, 'Episode 13', 'Épisode 13'],
    [951, 'Episode 14', 'Épisode 14'], [952, 'Episode 15', 'Épisode 15'], [954, 'Episode 16', 'Épisode 16'],
    [953, 'Episode 17', 'Épisode 17'], [955, 'Episode 18', 'Épisode 18'], [956, 'Episode 19', 'Épisode 19'],
    [957, 'Episode 20', 'Épisode 20'], [958, 'Episode 21', 'Épisode 21'], [959, 'Episode 22', 'Épisode 22'],
    [960, 'Episode 23', 'Épisode 23'], [961, 'Episode 24', 'Épisode 24'], [962, 'Episode 25', 'Épisode 25'],
    [963, 'Episode 26', 'Épisode 26'], [964, 'Episode 27', 'Épisode 27'], [965, 'Episode 28', 'Épisode 28'],
    [966, 'Episode 29', 'Épisode 29'], [967, 'Episode 30', 'Épisode 30'], [1088, 'Episode 31', 'Épisode 31'],
    [1089, 'Episode 32', 'Épisode 32'], [1090, 'Episode 33', 'Épisode 33'], [1091, 'Episode 34', 'Épisode 34'],
    [1092, 'Episode 35', 'Épisode 35'], [1093, 'Episode 36', 'Épisode 36'], [1094, 'Episode 37', 'Épisode 37'],
    [1095, 'Episode 38', 'Épisode 38'], [1096, 'Episode 39', 'Épisode 39'], [1097, 'Episode 40', 'Épisode 40'],
    [1098, 'Episode 41', 'Épisode 41'], [1099, 'Episode 42', 'Épisode 42'], [1100, 'Episode 43', 'Épisode 43'],
    [1101, 'Episode 44', 'Épisode 44'], [1102, 'Episode 45', 'Épisode 45'], [1103, 'Episode 46', 'Épisode 46'],
    [1104, 'Episode 47', 'Épisode 47'], [1105, 'Episode 48', 'Épisode 48'], [1106, 'Episode 49', 'Épisode 49'],
    [1107, 'Episode 50', 'Épisode 50'], [1108, 'Episode 51', 'Épisode 51'], [1109, 'Episode 52', 'Épisode 52'],
    [1110, 'Episode 53', 'Épisode 53'], [1111, 'Episode 54', 'Épisode 54'], [1112, 'Episode 55', 'Épisode 55'],
    [1113, 'Episode 56', 'Épisode 56'], [1114, 'Episode 57', 'Épisode 57'], [1115, 'Episode 58', 'Épisode 58'],
    [1116, 'Episode 59', 'Épisode 59'], [1117, 'Episode 60', 'Épisode 60'],
    [1143, 'Not specified', 'Non communiqué'],
  ] },
  { id: 47, en: 'eBook - Format', fr: 'eBook - Format', mode: 'single', ordered: false, terms: [
    [1064, 'EPUB', 'ePub'], [1056, 'PDF', 'Pdf'], [1065, 'MOBI', 'Mobi'], [1067, 'AZW', 'Azw'], [1066, 'PRC', 'Prc'],
    [1081, 'DjVu', 'Djvu'], [1165, 'DOC', 'Doc'], [1054, 'CBZ', 'Cbz'], [1055, 'CBR', 'Cbr'], [1059, 'CB7', 'Cb7'],
    [1060, 'CBT', 'Cbt'], [1061, 'CBA', 'Cba'], [1057, 'JPG', 'Jpg'], [1058, 'PNG', 'Png'],
  ] },
  { id: 48, en: 'Karaoke - Type', fr: 'Karaoke - Type', mode: 'multi', ordered: true, terms: [
    [1078, 'Audio and lyrics', 'Audio + Texte'], [1080, 'Video and subtitles', 'Vidéo + Sous-titrage'],
  ] },
  { id: 49, en: 'Audio - Source', fr: 'Audio - Qualité', mode: 'single', ordered: true, terms: [
    [1189, 'CD', 'Cd'], [1187, 'Vinyl', 'Vinyle'], [1193, 'Web'], [1188, 'SACD', 'Sacd'],
    [1190, 'Blu-ray Audio', 'Bluray Audio'],
  ] },
  { id: 50, en: 'Audio - Podcast genre', fr: 'Audio - Genre Podcast', mode: 'multi', ordered: false, terms: [
    [1194, 'Literature', 'Littéraire'], [1195, 'Music', 'Musical'],
    [1196, 'Politics and society', 'Politique/Société'], [1197, 'Sports'], [1198, 'Leisure', 'Loisirs'],
    [1199, 'Science', 'Sciences'], [1200, 'Humour'], [1201, 'Free radio', 'Radio Libre'],
  ] },
  { id: 51, en: 'Video - Language (series)', fr: 'Vidéo - Langue', mode: 'single', ordered: true, terms: [
    [1210, 'French (France)', 'Français (VFF/Truefrench)'], [1214, 'French (Quebec)', 'Québécois (VFQ/French)'],
    [1212, 'Multi (French included)', 'Multi (Français inclus)'],
    [1213, 'Multi (Quebec French included)', 'Multi (Québécois inclus)'], [1209, 'English', 'Anglais'],
    [1216, 'Original version, French subtitles (VOSTFR)', 'VOSTFR'],
    [1217, 'English, English subtitles (VOASTA)', 'VOASTA'], [1215, 'French, French subtitles (VFSTFR)', 'VFSTFR'],
    [1211, 'Silent', 'Muet'],
  ] },
];

// Term types shared by the subcategories of a parent.
const VIDEO = { film: [7, 17, 2, 9, 34], series: [7, 51, 45, 46, 2, 9, 34], episodic: [7, 17, 45, 46, 2, 9, 34], plain: [7, 17, 9, 34] };
const EBOOK = [47, 43, 12];
const APP = [11, 43];
const APP_MOBILE = [32, 11, 43];
const GAME = [10, 43];
const GAME_MOBILE = [32, 10, 43];

export const DEFAULT_CATEGORIES: readonly CategorySpec[] = [
  { id: 210, slug: 'video', icon: 'video', en: 'Video', fr: 'Film/Vidéo', children: [
    { id: 631, slug: 'video-movie', icon: 'video-movie', en: 'Movies', fr: 'Film', types: VIDEO.film },
    { id: 433, slug: 'video-tv-series', icon: 'video-tv-series', en: 'TV series', fr: 'Série TV', types: VIDEO.series },
    { id: 634, slug: 'video-documentary', icon: 'video-documentary', en: 'Documentaries', fr: 'Documentaire', types: VIDEO.film },
    { id: 455, slug: 'video-animation', icon: 'video-animation', en: 'Animation', fr: 'Animation', types: VIDEO.film },
    { id: 637, slug: 'video-animation-series', icon: 'video-animation-series', en: 'Animated series', fr: 'Animation Série', types: VIDEO.episodic },
    { id: 639, slug: 'video-tv-show', icon: 'video-tv-show', en: 'TV shows', fr: 'Emission TV', types: VIDEO.episodic },
    { id: 635, slug: 'video-stage-show', icon: 'video-stage-show', en: 'Stage shows', fr: 'Spectacle', types: VIDEO.film },
    { id: 633, slug: 'video-concert', icon: 'video-concert', en: 'Concerts', fr: 'Concert', types: VIDEO.plain },
    { id: 402, slug: 'video-clips', icon: 'video-clips', en: 'Music videos', fr: 'Vidéo-clips', types: VIDEO.plain },
    { id: 636, slug: 'video-sport', icon: 'video-sport', en: 'Sport', fr: 'Sport', types: VIDEO.plain },
  ] },
  { id: 395, slug: 'audio', icon: 'audio', en: 'Audio', fr: 'Audio', children: [
    { id: 623, slug: 'audio-music', icon: 'audio-music', en: 'Music', fr: 'Musique', types: [16, 29, 49, 14] },
    { id: 642, slug: 'audio-podcast', icon: 'audio-podcast', en: 'Podcasts and radio', fr: 'Podcast Radio', types: [16, 50] },
    { id: 400, slug: 'audio-karaoke', icon: 'audio-karaoke', en: 'Karaoke', fr: 'Karaoke', types: [48] },
    { id: 403, slug: 'audio-samples', icon: 'audio-samples', en: 'Samples', fr: 'Samples', types: [16, 14] },
  ] },
  { id: 404, slug: 'ebook', icon: 'ebook', en: 'eBooks', fr: 'eBook', children: [
    { id: 408, slug: 'ebook-books', icon: 'ebook-books', en: 'Books', fr: 'Livres', types: EBOOK },
    { id: 406, slug: 'ebook-bds', icon: 'ebook-bds', en: 'Comic albums (BD)', fr: 'Bds', types: EBOOK },
    { id: 407, slug: 'ebook-comics', icon: 'ebook-comics', en: 'Comics', fr: 'Comics', types: EBOOK },
    { id: 409, slug: 'ebook-mangas', icon: 'ebook-mangas', en: 'Manga', fr: 'Mangas', types: EBOOK },
    { id: 410, slug: 'ebook-press', icon: 'ebook-press', en: 'Press', fr: 'Presse', types: EBOOK },
    { id: 405, slug: 'ebook-audio', icon: 'ebook-audio', en: 'Audiobooks', fr: 'Audio', types: [16, 29, 43, 12] },
  ] },
  { id: 233, slug: 'application', icon: 'application', en: 'Software', fr: 'Application', children: [
    { id: 236, slug: 'application-windows', icon: 'application-windows', en: 'Windows', fr: 'Windows', types: APP },
    { id: 235, slug: 'application-macos', icon: 'application-macos', en: 'macOS', fr: 'MacOS', types: APP },
    { id: 234, slug: 'application-linux', icon: 'application-linux', en: 'Linux', fr: 'Linux', types: APP },
    { id: 625, slug: 'application-smartphone', icon: 'application-smartphone', en: 'Smartphone', fr: 'Smartphone', types: APP_MOBILE },
    { id: 627, slug: 'application-tablet', icon: 'application-tablet', en: 'Tablet', fr: 'Tablette', types: APP_MOBILE },
    { id: 638, slug: 'application-training', icon: 'application-training', en: 'Training', fr: 'Formation', types: APP },
    { id: 629, slug: 'application-other', icon: 'application-other', en: 'Other', fr: 'Autre', types: APP },
  ] },
  { id: 624, slug: 'game', icon: 'game', en: 'Video games', fr: 'Jeu vidéo', children: [
    { id: 246, slug: 'game-windows', icon: 'game-windows', en: 'Windows', fr: 'Windows', types: GAME },
    { id: 245, slug: 'game-macos', icon: 'game-macos', en: 'macOS', fr: 'MacOS', types: GAME },
    { id: 239, slug: 'game-linux', icon: 'game-linux', en: 'Linux', fr: 'Linux', types: GAME },
    { id: 307, slug: 'game-nintendo', icon: 'game-nintendo', en: 'Nintendo', fr: 'Nintendo', types: [37, 10, 43] },
    { id: 308, slug: 'game-sony', icon: 'game-sony', en: 'Sony', fr: 'Sony', types: [18, 10, 43] },
    { id: 309, slug: 'game-microsoft', icon: 'game-microsoft', en: 'Microsoft', fr: 'Microsoft', types: [36, 10, 43] },
    { id: 626, slug: 'game-smartphone', icon: 'game-smartphone', en: 'Smartphone', fr: 'Smartphone', types: GAME_MOBILE },
    { id: 628, slug: 'game-tablet', icon: 'game-tablet', en: 'Tablet', fr: 'Tablette', types: GAME_MOBILE },
    { id: 630, slug: 'game-other', icon: 'game-other', en: 'Other', fr: 'Autre', types: GAME },
  ] },
  { id: 340, slug: 'emulation', icon: 'emulation', en: 'Emulation', fr: 'Emulation', children: [
    { id: 342, slug: 'emulation-emulators', icon: 'emulation-emulators', en: 'Emulators', fr: 'Emulateurs', types: [15] },
    { id: 344, slug: 'emulation-roms', icon: 'emulation-roms', en: 'ROMs', fr: 'Roms', types: [15] },
  ] },
  { id: 392, slug: 'gps', icon: 'gps', en: 'GPS', fr: 'GPS', children: [
    { id: 391, slug: 'gps-applications', icon: 'gps-applications', en: 'Applications', fr: 'Applications', types: [26] },
    { id: 393, slug: 'gps-maps', icon: 'gps-maps', en: 'Maps', fr: 'Cartes', types: [26] },
    { id: 394, slug: 'gps-other', icon: 'gps-other', en: 'Other', fr: 'Divers', types: [] },
  ] },
];

/**
 * Installs the default taxonomy in one transaction when the category table is empty. Returns true
 * when it did, false when categories already existed (also when another process installed them at
 * the same moment).
 */
export async function installDefaultTaxonomy(db: Kysely<Database>): Promise<boolean> {
  try {
    return await db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('category').select('id').limit(1).executeTakeFirst();
      if (existing) return false;
      await trx
        .insertInto('term_type')
        .values(DEFAULT_TERM_TYPES.map((t, i) => ({ id: t.id, name_en: t.en, name_fr: t.fr, mode: t.mode, position: i + 1, deprecated: 0 as const })))
        .execute();
      const terms = DEFAULT_TERM_TYPES.flatMap((t) =>
        t.terms.map(([id, en, fr], i) => ({ id, term_type_id: t.id, name_en: en, name_fr: fr ?? en, position: t.ordered ? i + 1 : 0, deprecated: 0 as const })),
      );
      for (const part of chunksFor(terms, 6)) await trx.insertInto('term').values(part).execute();
      const parents = DEFAULT_CATEGORIES.map((p, i) => ({ id: p.id, parent_id: null, slug: p.slug, icon: p.icon, name_en: p.en, name_fr: p.fr, position: i + 1, adult: 0 as const }));
      await trx.insertInto('category').values(parents).execute();
      const subs = DEFAULT_CATEGORIES.flatMap((p) =>
        (p.children ?? []).map((c, i) => ({ id: c.id, parent_id: p.id, slug: c.slug, icon: c.icon, name_en: c.en, name_fr: c.fr, position: i + 1, adult: 0 as const })),
      );
      await trx.insertInto('category').values(subs).execute();
      const bindings = DEFAULT_CATEGORIES.flatMap((p) =>
        (p.children ?? []).flatMap((c) => (c.types ?? []).map((typeId, i) => ({ category_id: c.id, term_type_id: typeId, position: i + 1 }))),
      );
      for (const part of chunksFor(bindings, 3)) await trx.insertInto('category_term_type').values(part).execute();
      return true;
    });
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}
