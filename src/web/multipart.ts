/**
 * Reading a multipart upload form (the website's upload page and the APIs' upload calls): every
 * field (repeatable) and the expected files. Oversized files are cut (`truncated`) rather than
 * failing the whole form, so that the answer can name the file that was too large.
 */
import type { FastifyRequest } from 'fastify';
import type { Site } from '../site/site.js';

export interface UploadedFile {
  data: Buffer;
  /** Cut at the transport's size limit. */
  truncated: boolean;
}

export interface MultipartForm {
  fields: Map<string, string[]>;
  files: Map<string, UploadedFile>;
}

/** Reads the whole multipart body: fields and the files named in `fileFields` (others are drained and ignored). */
export async function readMultipart(req: FastifyRequest, site: Site, fileFields: readonly string[] = ['torrent', 'nfo']): Promise<MultipartForm> {
  const cfg = site.config.site;
  const fields = new Map<string, string[]>();
  const files = new Map<string, UploadedFile>();
  // (throwFileSizeLimit exists at run time; the typings omit it.)
  const opts = { limits: { fileSize: Math.max(cfg.max_torrent_bytes, cfg.max_nfo_bytes) }, throwFileSizeLimit: false };
  for await (const part of req.parts(opts as Parameters<FastifyRequest['parts']>[0])) {
    if (part.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const chunk of part.file) chunks.push(chunk as Buffer);
      // An empty file input is sent as a part with no name and no bytes.
      if (fileFields.includes(part.fieldname) && (part.filename !== '' || chunks.length > 0)) {
        files.set(part.fieldname, { data: Buffer.concat(chunks), truncated: part.file.truncated });
      }
    } else {
      const list = fields.get(part.fieldname) ?? [];
      list.push(typeof part.value === 'string' ? part.value : String(part.value));
      fields.set(part.fieldname, list);
    }
  }
  return { fields, files };
}
