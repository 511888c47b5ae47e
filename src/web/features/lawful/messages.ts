/** Messages of the lawful pages. Keys are prefixed with "lawful.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'lawful.title': 'lawful',
  },
  fr: {
    'lawful.title': 'lawful',
  },
});
