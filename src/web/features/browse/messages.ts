/** Messages of the browse pages. Keys are prefixed with "browse.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'browse.title': 'browse',
  },
  fr: {
    'browse.title': 'browse',
  },
});
