// openapi-typescript (the test that generates a client from /openapi.json) builds its output with
// the TypeScript compiler API, which TypeScript 7 (the workspace's compiler) does not have: it gets
// TypeScript 6's, as the other API users in the workspace do (`@typescript/typescript6`).
module.exports = {
  hooks: {
    readPackage(manifest) {
      if (manifest.name === "openapi-typescript") {
        delete manifest.peerDependencies?.typescript;
        manifest.dependencies = { ...manifest.dependencies, typescript: "npm:@typescript/typescript6@6.0.2" };
      }
      return manifest;
    },
  },
};
