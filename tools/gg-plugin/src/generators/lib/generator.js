// `nx g @gg/plugin:lib NAME --type=util|data-access|feature|contracts`: libs/NAME, imported as @gg/NAME.
const { formatFiles, joinPathFragments } = require('@nx/devkit');
const shared = require('../shared');

const TYPES = ['util', 'data-access', 'feature', 'contracts'];

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {{ name: string, type?: string }} options
 */
async function libGenerator(tree, options) {
  const n = shared.checkName(options.name);
  const type = options.type ?? 'util';
  if (!TYPES.includes(type)) throw new Error(`--type must be one of ${TYPES.join(', ')}, got "${type}"`);
  const name = n.fileName;
  const root = `libs/${name}`;
  shared.assertFree(tree, root);

  shared.writeJson(
    tree,
    joinPathFragments(root, 'project.json'),
    shared.projectJson({ name, root, kind: 'lib', tags: ['scope:shared', `type:${type}`] }),
  );
  shared.writeCommonFiles(tree, { name, root, kind: 'lib' });
  const fn = `${n.propertyName}Ready`;
  tree.write(joinPathFragments(root, 'src/index.ts'), `export * from './${name}';\n`);
  tree.write(
    joinPathFragments(root, `src/${name}.ts`),
    `/** @gg/${name} (type:${type}): replace this with the library's first piece of code, with a spec next to it. */
export function ${fn}(): string {
  return '@gg/${name} ready';
}
`,
  );
  tree.write(
    joinPathFragments(root, `src/${name}.spec.ts`),
    `import { ${fn} } from './index';

describe('@gg/${name}', () => {
  it('exports its code from the entry point', () => {
    expect(${fn}()).toBe('@gg/${name} ready');
  });
});
`,
  );

  shared.addPathAlias(tree, name, `${root}/src/index.ts`);
  shared.addJestAlias(tree, name);
  await formatFiles(tree);
}

module.exports = libGenerator;
module.exports.default = libGenerator;
module.exports.libGenerator = libGenerator;
