/**
 * `npm run bundle-report`: bundles every function the way RegionalApi deploys it and prints each
 * bundle's size, so a change that drags in a large dependency shows up before it ships.
 */
import { gzipSync } from "node:zlib";
import { bundleFunction } from "resilient-dynamo";
import { FUNCTIONS, FUNCTION_NAMES } from "../functions/routes";
import { SERVICE_CODE_ROOT } from "../stack/service-api";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

console.log(
  `${"function".padEnd(12)} ${"entry".padEnd(36)} ${"bundle".padStart(10)} ${"gzip".padStart(10)}`,
);
for (const name of FUNCTION_NAMES) {
  const spec = FUNCTIONS[name];
  const { code } = bundleFunction(spec.entry, SERVICE_CODE_ROOT);
  const bytes = Buffer.byteLength(code);
  console.log(
    `${name.padEnd(12)} ${spec.entry.padEnd(36)} ${kib(bytes).padStart(10)} ${kib(gzipSync(code).length).padStart(10)}`,
  );
}
