// Validates the appliance's /openapi.json against the OpenAPI specification (swagger-parser) and
// prints {"valid", "error"?, "version", "paths": {"/path": ["get", ...]}} as one JSON line.
//   node openapi.mjs BASE_URL
import SwaggerParser from '@apidevtools/swagger-parser';

const base = process.argv[2];
const response = await fetch(base + '/openapi.json');
const doc = await response.json();
const paths = Object.fromEntries(Object.entries(doc.paths || {}).map(([p, ops]) => [p, Object.keys(ops)]));
let valid = true, error;
try {
  await SwaggerParser.validate(structuredClone(doc));
} catch (e) {
  valid = false;
  error = String(e.message || e);
}
process.stdout.write(JSON.stringify({ valid, error, version: doc.openapi, status: response.status, paths }) + '\n');
