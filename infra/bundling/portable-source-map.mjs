// Rewrites a bundle's source map so that its `sources` are relative to the project root instead of
// to the directory CDK bundled in. esbuild writes them relative to its output directory, which lies
// inside whatever `--output` is; CDK hashes the bundle's output, so without this the asset hash (and
// the deployed function) would change with the output directory. Plain JavaScript: CDK runs it as a
// shell step with the Node that runs the app, without a TypeScript loader.
// Usage: node portable-source-map.mjs <map file> <project root>
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

const [mapFile, root] = process.argv.slice(2);
if (!mapFile || !root) throw new Error('usage: portable-source-map.mjs <map file> <project root>');
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
if (!Array.isArray(map.sources)) throw new Error(`${mapFile} has no sources`);
map.sources = map.sources.map((source) => {
  // URLs (some packages' own source maps name `https://raw.githubusercontent.com/…`) stay as they are.
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(source)) return source;
  const fromRoot = relative(root, resolve(dirname(mapFile), source));
  // A source outside the project (a dependency linked from elsewhere) keeps esbuild's path.
  return fromRoot.startsWith('..') || isAbsolute(fromRoot) ? source : fromRoot.split(sep).join('/');
});
writeFileSync(mapFile, JSON.stringify(map));
