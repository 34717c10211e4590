// The README's "Security" section names only what the package exports.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../../src/index.js";

const test = suite("readme: security");

test("every credentials function and type the Security section names is exported", () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("\n## Security\n");
  assert.ok(start >= 0, "the README has a Security section");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const names = new Set(section.match(/\b(?:[a-z][A-Za-z]*Credentials|sslServerCertificateConfiguration|LocalConnectionType|secureChannel)\b/g) ?? []);
  assert.ok(names.size >= 10, `found ${names.size} names`);
  for (const name of names) assert.ok(name in api, `${name} is not exported from src/index.ts`);
  for (const key of ["transport_security_type", "x509_common_name", "x509_subject_alternative_name", "peer_spiffe_id"]) assert.ok(section.includes(key));
});

test.run();
