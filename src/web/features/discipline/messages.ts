/** Messages of the discipline pages. Keys are prefixed with "discipline.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'discipline.title': 'discipline',
  },
  fr: {
    'discipline.title': 'discipline',
  },
});
