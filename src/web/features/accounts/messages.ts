/** Messages of the accounts pages. Keys are prefixed with "accounts.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'accounts.title': 'accounts',
  },
  fr: {
    'accounts.title': 'accounts',
  },
});
