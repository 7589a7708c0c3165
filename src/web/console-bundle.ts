import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CardlineError } from '../errors/index.ts';

/** The front-end sources (`web/`), next to `src/` in the package. */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export interface ConsoleBundle {
  html: string;
  js: string;
  /** strong validators for conditional GETs */
  htmlEtag: string;
  jsEtag: string;
  /** CSP hashes ('sha256-…') of the page's inline <style> blocks: no 'unsafe-inline' needed */
  styleHashes: string[];
}

const etag = (s: string) => `"${createHash('sha256').update(s).digest('base64url').slice(0, 27)}"`;

/**
 * Bundles the console (Lit 3 + our TypeScript in `web/src`) with esbuild, in memory, once per process.
 * Why at run time and not in a build step: Cardline runs from source through tsx (no build step, README), and
 * esbuild bundles the console in well under a second, so `npm ci && npm start` serves it with nothing else to
 * run and no network. The first request pays the build; later ones get the cached result. A failed build is
 * not cached, so a fixed source tree is picked up on the next request.
 */
let cached: Promise<ConsoleBundle> | null = null;

export function consoleBundle(): Promise<ConsoleBundle> {
  if (cached !== null) return cached;
  const p = buildConsoleBundle();
  cached = p;
  p.catch(() => { if (cached === p) cached = null; });
  return p;
}

export async function buildConsoleBundle(): Promise<ConsoleBundle> {
  let js: string;
  try {
    const r = await build({
      entryPoints: [`${WEB_DIR}src/main.ts`],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      minify: true,
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
      tsconfig: `${WEB_DIR}tsconfig.json`,
    });
    const out = r.outputFiles[0];
    if (out === undefined) throw new Error('esbuild produced no output');
    js = out.text;
  } catch (err) {
    throw new CardlineError('internal', 'the web console could not be built', { cause: err });
  }
  const html = await readFile(`${WEB_DIR}index.html`, 'utf8');
  const styleHashes = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)]
    .map((m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`);
  return { html, js, htmlEtag: etag(html), jsEtag: etag(js), styleHashes };
}
