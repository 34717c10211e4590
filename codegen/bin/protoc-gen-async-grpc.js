#!/usr/bin/env node
// protoc-gen-async-grpc: runs the compiled plugin (dist/codegen/src/) with
// @bufbuild/protoplugin, which the user installs next to @bufbuild/protoc-gen-es.
let modules;
try {
  modules = await Promise.all([
    import("@bufbuild/protoplugin"),
    import("../../dist/codegen/src/protoc-gen-async-grpc.js"),
  ]);
} catch (err) {
  process.stderr.write(
    `protoc-gen-async-grpc: cannot load the plugin (${err instanceof Error ? err.message : String(err)}).\n` +
      "It needs @bufbuild/protoplugin (npm install --save-dev @bufbuild/protoc-gen-es @bufbuild/protoplugin)" +
      " and, in a checkout of async-grpc, a build (npm run build).\n",
  );
  process.exit(1);
}
const [{ runNodeJs }, { protocGenAsyncGrpc }] = modules;
runNodeJs(protocGenAsyncGrpc);
