/** Messages of the upload pages. Keys are prefixed with "upload.". */
import { defineMessages } from '../../i18n.js';

export const messages = defineMessages({
  en: {
    'upload.title': 'upload',
  },
  fr: {
    'upload.title': 'upload',
  },
});
