/** Messages of the Torznab category mapping page. Keys are prefixed "torznab.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'torznab.title': 'Torznab categories',
    'torznab.intro':
      'Torznab clients (Prowlarr, Jackett, Sonarr, Radarr...) filter by Newznab categories. Each subcategory of the site is given one Newznab category here; clients also see every site category as a custom category ({custom} plus its id).',
    'torznab.endpoint': 'Members add the site to their tools with the URL {url} and one of their personal API tokens.',
    'torznab.caption': 'Subcategories of {parent} and their Newznab category',
    'torznab.col.subcategory': 'Subcategory',
    'torznab.col.custom': 'Custom id',
    'torznab.col.newznab': 'Newznab category',
    'torznab.col.default': 'Default',
    'torznab.changed': 'changed',
    'torznab.save': 'Save the mapping',
    'torznab.reset': 'Reset every category to its default',
    'torznab.reset.hint': 'Removes every choice made here; each subcategory goes back to the default mapping.',
    'torznab.saved': 'The Torznab category mapping was saved.',
    'torznab.unchanged': 'Nothing was changed.',
    'torznab.reset.done': 'The Torznab category mapping is back to its defaults.',
    'torznab.error.unknown_newznab': 'Choose a Newznab category from the list.',
    'torznab.error.unknown_category': 'This subcategory no longer exists.',
    'torznab.empty': 'The site has no subcategory yet.',
  },
  fr: {
    'torznab.title': 'Catégories Torznab',
    'torznab.intro':
      'Les clients Torznab (Prowlarr, Jackett, Sonarr, Radarr...) filtrent par catégories Newznab. Chaque sous-catégorie du site reçoit ici une catégorie Newznab ; les clients voient aussi chaque catégorie du site comme une catégorie personnalisée ({custom} plus son identifiant).',
    'torznab.endpoint': 'Les membres ajoutent le site à leurs outils avec l’adresse {url} et l’un de leurs jetons d’API personnels.',
    'torznab.caption': 'Sous-catégories de {parent} et leur catégorie Newznab',
    'torznab.col.subcategory': 'Sous-catégorie',
    'torznab.col.custom': 'Identifiant personnalisé',
    'torznab.col.newznab': 'Catégorie Newznab',
    'torznab.col.default': 'Par défaut',
    'torznab.changed': 'modifiée',
    'torznab.save': 'Enregistrer la correspondance',
    'torznab.reset': 'Rétablir toutes les catégories par défaut',
    'torznab.reset.hint': 'Supprime tous les choix faits ici ; chaque sous-catégorie reprend la correspondance par défaut.',
    'torznab.saved': 'La correspondance des catégories Torznab est enregistrée.',
    'torznab.unchanged': 'Rien n’a été modifié.',
    'torznab.reset.done': 'La correspondance des catégories Torznab est revenue aux valeurs par défaut.',
    'torznab.error.unknown_newznab': 'Choisissez une catégorie Newznab dans la liste.',
    'torznab.error.unknown_category': 'Cette sous-catégorie n’existe plus.',
    'torznab.empty': 'Le site n’a encore aucune sous-catégorie.',
  },
});
