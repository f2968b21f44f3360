// What both generators write: the files every project has (project.json, tsconfigs, jest configs) and the
// registrations in shared files (path alias, root tsconfig.json, jest alias, boundaries).
const { joinPathFragments, names, readJson, updateJson } = require('@nx/devkit');

/** @param {string} name */
function checkName(name) {
  if (!/^[a-z][a-z0-9-]*$/.test(name ?? '')) throw new Error(`name must be kebab-case (a-z, 0-9, "-"), got "${name}"`);
  return names(name);
}

/** @param {import('@nx/devkit').Tree} tree @param {string} root */
function assertFree(tree, root) {
  if (tree.exists(root)) throw new Error(`${root} already exists`);
}

/** @param {import('@nx/devkit').Tree} tree @param {string} path @param {unknown} value */
function writeJson(tree, path, value) {
  tree.write(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * project.json with the build/typecheck/int targets of the other projects (lint and test are inferred by
 * @nx/eslint/plugin and @nx/jest/plugin from eslint.config.mjs and jest.config.js).
 * @param {{ name: string, root: string, kind: 'app' | 'lib', tags: string[] }} p
 */
function projectJson({ name, root, kind, tags }) {
  const targets = {
    build: {
      executor: 'nx:run-commands',
      options: { command: `node scripts/build.mjs --project ${name}` },
      outputs: ['{workspaceRoot}/dist/out-tsc/{projectRoot}'],
    },
    ...(kind === 'app'
      ? {
          serve: {
            executor: 'nx:run-commands',
            continuous: true,
            options: { command: `node scripts/build.mjs --project ${name} --watch` },
          },
        }
      : {}),
    typecheck: { executor: 'nx:run-commands', options: { command: 'tsc -p {projectRoot}/tsconfig.json' } },
    int: {
      executor: '@nx/jest:jest',
      options: { jestConfig: '{projectRoot}/jest.int.config.js', runInBand: true, passWithNoTests: true },
    },
  };
  return {
    name,
    $schema: '../../node_modules/nx/schemas/project-schema.json',
    sourceRoot: `${root}/src`,
    projectType: kind === 'app' ? 'application' : 'library',
    tags,
    targets,
  };
}

/**
 * tsconfig.json (typecheck, specs included), tsconfig.app.json / tsconfig.lib.json (build), jest configs
 * @param {import('@nx/devkit').Tree} tree @param {{ name: string, root: string, kind: 'app' | 'lib' }} p
 */
function writeCommonFiles(tree, { name, root, kind }) {
  writeJson(tree, joinPathFragments(root, 'tsconfig.json'), {
    extends: '../../tsconfig.base.json',
    compilerOptions: { noEmit: true },
    include: ['src/**/*.ts'],
  });
  writeJson(tree, joinPathFragments(root, kind === 'app' ? 'tsconfig.app.json' : 'tsconfig.lib.json'), {
    extends: './tsconfig.json',
    compilerOptions: { noEmit: false, types: ['node'], rootDir: '../..', outDir: '../../dist/out-tsc' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.spec.ts', 'src/**/*.int-spec.ts', 'src/**/*.e2e-spec.ts', 'src/**/testing/**'],
    'tsc-alias': { resolveFullPaths: false },
  });
  /** @param {string} file @param {string} displayName @param {string} match @param {string} comment */
  const jest = (file, displayName, match, comment) =>
    tree.write(
      joinPathFragments(root, file),
      `// ${comment}. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: '${displayName}',
  roots: ['<rootDir>/${root}'],
  testMatch: ['**/${match}'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
`,
    );
  jest('jest.config.js', name, '*.spec.ts', `Unit tests of ${name} (*.spec.ts): \`nx test ${name}\``);
  jest(
    'jest.int.config.js',
    `${name}:int`,
    '*.int-spec.ts',
    `Integration tests of ${name} (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): \`nx int ${name}\``,
  );
}

/** `@gg/NAME` in tsconfig.base.json paths @param {import('@nx/devkit').Tree} tree @param {string} name @param {string} entry */
function addPathAlias(tree, name, entry) {
  updateJson(tree, 'tsconfig.base.json', (json) => {
    json.compilerOptions ??= {};
    json.compilerOptions.paths ??= {};
    const alias = `@gg/${name}`;
    if (json.compilerOptions.paths[alias]) throw new Error(`${alias} is already in tsconfig.base.json`);
    json.compilerOptions.paths[alias] = [entry];
    return json;
  });
}

/**
 * the `^@gg/(a|b)$` mapper of jest.preset.js also maps the new lib (left alone when written another way)
 * @param {import('@nx/devkit').Tree} tree @param {string} name
 */
function addJestAlias(tree, name) {
  if (!tree.exists('jest.preset.js')) return;
  const text = tree.read('jest.preset.js', 'utf-8') ?? '';
  const next = text.replace(/\^@gg\/\(([a-z0-9|-]+)\)\$/, (/** @type {string} */ all, /** @type {string} */ list) =>
    list.split('|').includes(name) ? all : `^@gg/(${list}|${name})$`,
  );
  if (next !== text) tree.write('jest.preset.js', next);
}

/**
 * the app's folder in the root tsconfig.json `include` (the whole-repo typecheck), keeping the one-line array
 * @param {import('@nx/devkit').Tree} tree @param {string} root
 */
function addToRootTsconfig(tree, root) {
  if (!tree.exists('tsconfig.json')) return;
  /** @type {string[]} */
  const include = readJson(tree, 'tsconfig.json').include ?? [];
  if (include.includes(root)) return;
  const lastApp = include.reduce((at, p, i) => (p.startsWith('apps/') ? i : at), include.length - 1);
  const next = [...include.slice(0, lastApp + 1), root, ...include.slice(lastApp + 1)];
  const text = tree.read('tsconfig.json', 'utf-8') ?? '';
  const oneLine = /"include":\s*\[[^\]\n]*\]/;
  if (oneLine.test(text)) {
    tree.write('tsconfig.json', text.replace(oneLine, `"include": [${next.map((p) => JSON.stringify(p)).join(', ')}]`));
  } else {
    updateJson(tree, 'tsconfig.json', (json) => ({ ...json, include: next }));
  }
}

/**
 * A boundary rule for the app's scope tag (apps import only scope:shared libs), next to the other apps' rules in
 * eslint.config.mjs; nothing when a rule for that tag or for `type:app` is there already. Without a rule that
 * matches one of its tags, a project may import no lib at all.
 * @param {import('@nx/devkit').Tree} tree @param {string} name
 */
function addAppBoundary(tree, name) {
  const file = 'eslint.config.mjs';
  if (!tree.exists(file)) return;
  const text = tree.read(file, 'utf-8') ?? '';
  if (text.includes(`sourceTag: 'scope:${name}'`) || text.includes(`sourceTag: 'type:app'`)) return;
  const appRule = /^([ \t]*)\{ sourceTag: 'scope:[a-z0-9-]+', onlyDependOnLibsWithTags: \['scope:shared'\] \},?\n/gm;
  let last = null;
  for (let m = appRule.exec(text); m; m = appRule.exec(text)) last = m;
  if (!last) throw new Error(`${file}: found no app rule to add "scope:${name}" next to; add it by hand`);
  const at = last.index + last[0].length;
  const rule = `${last[1]}{ sourceTag: 'scope:${name}', onlyDependOnLibsWithTags: ['scope:shared'] },\n`;
  tree.write(file, text.slice(0, at) + rule + text.slice(at));
}

module.exports = {
  addAppBoundary,
  addJestAlias,
  addPathAlias,
  addToRootTsconfig,
  assertFree,
  checkName,
  projectJson,
  writeCommonFiles,
  writeJson,
};
