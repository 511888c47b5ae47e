/** Messages of the joining pages. Keys are prefixed with "joining.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'joining.title': 'joining',
  },
  fr: {
    'joining.title': 'joining',
  },
});
