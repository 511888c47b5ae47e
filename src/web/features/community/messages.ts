/** Messages of the community pages. Keys are prefixed with "community.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'community.title': 'community',
  },
  fr: {
    'community.title': 'community',
  },
});
