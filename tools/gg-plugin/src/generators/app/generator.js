// `nx g @gg/plugin:app NAME [--port=8084]`: a NestJS app in apps/NAME, tagged scope:NAME type:app.
const { formatFiles, joinPathFragments } = require('@nx/devkit');
const shared = require('../shared');
const { appFiles } = require('./files');

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {{ name: string, port?: number }} options
 */
async function appGenerator(tree, options) {
  const n = shared.checkName(options.name);
  const port = options.port ?? 8084;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1-65535, got ${port}`);
  const name = n.fileName;
  const root = `apps/${name}`;
  shared.assertFree(tree, root);

  shared.writeJson(
    tree,
    joinPathFragments(root, 'project.json'),
    shared.projectJson({ name, root, kind: 'app', tags: [`scope:${name}`, 'type:app'] }),
  );
  shared.writeCommonFiles(tree, { name, root, kind: 'app' });
  const className = n.className;
  for (const [path, text] of Object.entries(
    appFiles({ name, className, propertyName: n.propertyName, constantName: n.constantName, port }),
  )) {
    tree.write(joinPathFragments(root, path), text);
  }

  shared.addToRootTsconfig(tree, root);
  shared.addAppBoundary(tree, name);
  await formatFiles(tree);
}

module.exports = appGenerator;
module.exports.default = appGenerator;
module.exports.appGenerator = appGenerator;
