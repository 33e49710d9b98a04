#!/usr/bin/env node
// Validates a Teams app package (zip) or manifest.json with Microsoft's own validator,
// @microsoft/app-manifest (pinned), offline against the schemas it bundles.
//
//   node validate/manifest.mjs tapbot-teams-app.zip     # exit 0: valid; 1: invalid; 2: usage
//
// Besides the JSON schema it checks what Teams checks at upload and the schema cannot:
// the icons named in the manifest are in the zip, are PNGs and have the required sizes.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppManifestUtils } from '@microsoft/app-manifest';
import { readZip } from './zip.mjs';

const require = createRequire(import.meta.url);
// The schemas ship in build/json-schemas/teams/v<version>/, next to the entry point.
const bundledSchemas = join(dirname(require.resolve('@microsoft/app-manifest')), 'json-schemas', 'teams');
const SCHEMA_URL = /^https:\/\/developer\.microsoft\.com\/json-schemas\/teams\/v(\d+\.\d+|DevPreview)\/MicrosoftTeams\.schema\.json$/;

const ICON_SIZES = { color: 192, outline: 32 };

/** Width and height of a PNG, or undefined if buf is not a PNG. */
export function pngSize(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(sig) || buf.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * Validates a manifest object; files (name → Buffer), when given, are the package's
 * other entries. Returns the list of problems, empty when valid.
 */
export async function validateManifest(manifest, files) {
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) return ['manifest.json is not a JSON object'];
  const url = manifest.$schema;
  if (typeof url !== 'string') return ['$schema: missing; the validator picks the schema by it'];
  // Never let the validator go online: it downloads any schema it does not bundle.
  const m = SCHEMA_URL.exec(url);
  if (!m || !existsSync(join(bundledSchemas, `v${m[1]}`, 'MicrosoftTeams.schema.json'))) {
    return [`$schema ${url}: not a Teams schema bundled with @microsoft/app-manifest (refusing to fetch it)`];
  }
  const errors = [...(await AppManifestUtils.validateAgainstSchema(manifest))];
  if (m[1] !== 'DevPreview' && manifest.manifestVersion !== m[1]) {
    errors.push(`manifestVersion ${JSON.stringify(manifest.manifestVersion)} does not match $schema v${m[1]}`);
  }
  if (files) {
    for (const [kind, size] of Object.entries(ICON_SIZES)) {
      const name = manifest.icons?.[kind];
      if (typeof name !== 'string') continue; // the schema reported it
      const data = files.get(name);
      if (!data) {
        errors.push(`icons.${kind}: ${name} is not in the package`);
        continue;
      }
      const dim = pngSize(data);
      if (!dim) errors.push(`icons.${kind}: ${name} is not a PNG`);
      else if (dim.width !== size || dim.height !== size) {
        errors.push(`icons.${kind}: ${name} is ${dim.width}×${dim.height}, Teams wants ${size}×${size}`);
      }
    }
  }
  return errors;
}

/** Reads a package (zip) or a manifest.json. Returns { manifest, files }. */
export function readPackage(path) {
  const buf = readFileSync(path);
  let text = buf;
  let files;
  if (buf.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    files = readZip(buf);
    text = files.get('manifest.json');
    if (!text) throw new Error(`${path}: no manifest.json at the root of the package`);
  }
  const s = text.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return { manifest: JSON.parse(s), files };
  } catch (err) {
    throw new Error(`${path}: manifest.json: ${err.message}`);
  }
}

/** Validates the package or manifest at path. Returns the list of problems. */
export async function validateFile(path) {
  const { manifest, files } = readPackage(path);
  return validateManifest(manifest, files);
}

async function main(argv) {
  if (argv.length !== 1 || argv[0].startsWith('-')) {
    console.error('usage: node validate/manifest.mjs <tapbot-teams-app.zip | manifest.json>');
    return 2;
  }
  let errors;
  try {
    errors = await validateFile(argv[0]);
  } catch (err) {
    console.error(`${argv[0]}: ${err.message}`);
    return 1;
  }
  if (errors.length > 0) {
    console.error(`${argv[0]}: ${errors.length} problem(s):`);
    for (const e of errors) console.error(`  - ${e}`);
    return 1;
  }
  console.log(`${argv[0]}: valid Teams app manifest`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
