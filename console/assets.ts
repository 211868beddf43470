/**
 * The console's scripts and style, bundled by esbuild when the service starts (nothing to build
 * beforehand), held in memory under content-hashed names so browsers may cache them for a year.
 */
import path from 'node:path';
import { build } from 'esbuild';

export const PAGES = ['worklist', 'pathway', 'dashboard', 'enrol', 'definitions', 'sign-in'] as const;
export type PageName = (typeof PAGES)[number];

export interface ConsoleAssets {
  /** By URL path (/assets/…): the bytes and their media type. */
  files: Map<string, { body: Uint8Array; type: string }>;
  /** Each page's script and the shared style sheet, by URL path. */
  scripts: Record<PageName, string>;
  style: string;
}

const WEB = path.join(__dirname, 'web');
const OUT = path.join(__dirname, '.assets');

export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [...PAGES.map((p) => ({ in: path.join(WEB, `${p}.ts`), out: p })), { in: path.join(WEB, 'console.css'), out: 'console' }],
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'shared-[hash]',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const files = new Map<string, { body: Uint8Array; type: string }>();
  for (const f of result.outputFiles) {
    files.set(`/assets/${path.relative(OUT, f.path)}`, { body: f.contents, type: f.path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' });
  }
  const byEntry = new Map<string, string>();
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint) byEntry.set(path.basename(meta.entryPoint).replace(/\.(ts|css)$/, ''), `/assets/${path.basename(out)}`);
  }
  const url = (name: string) => {
    const found = byEntry.get(name);
    if (!found) throw new Error(`the console bundle has no ${name}`);
    return found;
  };
  return { files, scripts: Object.fromEntries(PAGES.map((p) => [p, url(p)])) as Record<PageName, string>, style: url('console') };
}
