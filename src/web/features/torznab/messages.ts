/** Messages of the torznab pages. Keys are prefixed "torznab.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'torznab.title': 'torznab',
  },
  fr: {
    'torznab.title': 'torznab',
  },
});
