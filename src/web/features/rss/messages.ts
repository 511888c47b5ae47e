/** Messages of the rss pages. Keys are prefixed with "rss.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'rss.title': 'rss',
  },
  fr: {
    'rss.title': 'rss',
  },
});
