/** Messages of the members pages. Keys are prefixed with "members.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'members.title': 'members',
  },
  fr: {
    'members.title': 'members',
  },
});
