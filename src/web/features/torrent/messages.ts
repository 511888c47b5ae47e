/** Messages of the torrent pages. Keys are prefixed with "torrent.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'torrent.title': 'torrent',
  },
  fr: {
    'torrent.title': 'torrent',
  },
});
