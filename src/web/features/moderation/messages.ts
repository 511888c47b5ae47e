/** Messages of the moderation pages. Keys are prefixed with "moderation.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'moderation.title': 'moderation',
  },
  fr: {
    'moderation.title': 'moderation',
  },
});
