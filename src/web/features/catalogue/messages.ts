/** Messages of the catalogue pages. Keys are prefixed with "catalogue.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'catalogue.title': 'catalogue',
  },
  fr: {
    'catalogue.title': 'catalogue',
  },
});
