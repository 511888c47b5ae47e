/** Messages of the apitokens pages. Keys are prefixed "apitokens.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'apitokens.title': 'apitokens',
  },
  fr: {
    'apitokens.title': 'apitokens',
  },
});
