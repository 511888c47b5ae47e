/** Messages of the community pages. Keys are prefixed with "community.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'community.header.messages': 'Messages',
    'community.header.unread': 'unread',
    'community.nav.requests': 'Requests',
    'community.nav.community': 'Community',
    'community.footer.staff': 'Staff',
    'community.footer.contact': 'Contact the staff',
  },
  fr: {
    'community.header.messages': 'Messages',
    'community.header.unread': 'non lus',
    'community.nav.requests': 'Requêtes',
    'community.nav.community': 'Communauté',
    'community.footer.staff': 'L’équipe',
    'community.footer.contact': 'Contacter l’équipe',
  },
});
