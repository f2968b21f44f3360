import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { appGenerator, libGenerator } from './index';

const repo = join(__dirname, '../../..');
// Prettier (formatFiles) cannot load its plugins inside Jest's VM; the generators' text is what is checked here
process.env['NX_SKIP_FORMAT'] = 'true';

/** an empty workspace with this repository's root tsconfigs, jest preset and boundaries */
function workspace(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const file of ['tsconfig.base.json', 'tsconfig.json', 'jest.preset.js', 'eslint.config.mjs']) {
    tree.write(file, readFileSync(join(repo, file), 'utf8'));
  }
  return tree;
}

describe('@gg/plugin:lib', () => {
  it('creates libs/NAME tagged scope:shared and its type, with tsconfigs, jest configs, a spec and the @gg/NAME alias', async () => {
    const tree = workspace();
    await libGenerator(tree, { name: 'rate-card', type: 'data-access' });

    const project = readProjectConfiguration(tree, 'rate-card');
    expect(project.root).toBe('libs/rate-card');
    expect(project.tags).toEqual(['scope:shared', 'type:data-access']);
    expect(Object.keys(project.targets ?? {})).toEqual(['build', 'typecheck', 'int']);
    expect(project.targets?.['build'].options.command).toBe('node scripts/build.mjs --project rate-card');
    for (const file of [
      'tsconfig.json',
      'tsconfig.lib.json',
      'jest.config.js',
      'jest.int.config.js',
      'src/index.ts',
      'src/rate-card.ts',
    ]) {
      expect(tree.exists(`libs/rate-card/${file}`)).toBe(true);
    }
    expect(tree.read('libs/rate-card/src/rate-card.spec.ts', 'utf-8')).toContain(
      "expect(rateCardReady()).toBe('@gg/rate-card ready')",
    );
    expect(readJson(tree, 'tsconfig.base.json').compilerOptions.paths['@gg/rate-card']).toEqual([
      'libs/rate-card/src/index.ts',
    ]);
    expect(tree.read('jest.preset.js', 'utf-8')).toMatch(/\^@gg\/\([a-z|-]*\|rate-card\)\$/);
    // the other aliases are untouched
    expect(readJson(tree, 'tsconfig.base.json').compilerOptions.paths['@gg/config']).toEqual([
      'libs/config/src/index.ts',
    ]);
  });

  it('refuses an unknown type, a name that is not kebab-case and a lib that exists', async () => {
    const tree = workspace();
    await expect(libGenerator(tree, { name: 'x', type: 'service' })).rejects.toThrow('--type must be one of');
    await expect(libGenerator(tree, { name: 'RateCard' })).rejects.toThrow('kebab-case');
    await libGenerator(tree, { name: 'dup' });
    await expect(libGenerator(tree, { name: 'dup' })).rejects.toThrow('libs/dup already exists');
  });
});

describe('@gg/plugin:app', () => {
  it('creates a NestJS app tagged scope:NAME type:app, in the root tsconfig.json and the boundaries', async () => {
    const tree = workspace();
    await appGenerator(tree, { name: 'billing-api', port: 8100 });

    const project = readProjectConfiguration(tree, 'billing-api');
    expect(project.projectType).toBe('application');
    expect(project.tags).toEqual(['scope:billing-api', 'type:app']);
    expect(Object.keys(project.targets ?? {})).toEqual(['build', 'serve', 'typecheck', 'int']);
    expect(project.targets?.['serve']).toMatchObject({
      continuous: true,
      options: { command: 'node scripts/build.mjs --project billing-api --watch' },
    });
    for (const file of [
      'tsconfig.json',
      'tsconfig.app.json',
      'jest.config.js',
      'jest.int.config.js',
      'src/app.setup.spec.ts',
    ]) {
      expect(tree.exists(`apps/billing-api/${file}`)).toBe(true);
    }
    const main = tree.read('apps/billing-api/src/main.ts', 'utf-8');
    expect(main).toContain('loadConfigOrExit()');
    expect(main).toContain('setupBillingApiApp(app)');
    expect(tree.read('apps/billing-api/src/app.setup.ts', 'utf-8')).toContain('app.enableShutdownHooks()');
    expect(tree.read('apps/billing-api/src/app.setup.ts', 'utf-8')).toContain('BILLING_API_DEFAULT_PORT = 8100');
    const module = tree.read('apps/billing-api/src/billing-api.module.ts', 'utf-8');
    expect(module).toContain("imports: [ConfigModule, loggerModule('billing-api'), ProbesModule.forRoot()]");
    expect(module).toContain('export class BillingApiModule');

    const include: string[] = readJson(tree, 'tsconfig.json').include;
    expect(include.filter((p) => p.startsWith('apps/')).pop()).toBe('apps/billing-api');
    expect(tree.read('eslint.config.mjs', 'utf-8')).toContain(
      "{ sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },\n            { sourceTag: 'scope:billing-api', onlyDependOnLibsWithTags: ['scope:shared'] },",
    );
    // no alias: apps are not imported
    expect(readJson(tree, 'tsconfig.base.json').compilerOptions.paths['@gg/billing-api']).toBeUndefined();
  });

  it('adds no boundary rule when one for type:app covers every app', async () => {
    const tree = workspace();
    const withTypeApp = tree
      .read('eslint.config.mjs', 'utf-8')!
      .replace(
        'depConstraints: [',
        "depConstraints: [\n            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['scope:shared'] },",
      );
    tree.write('eslint.config.mjs', withTypeApp);
    await appGenerator(tree, { name: 'jobs' });
    expect(tree.read('eslint.config.mjs', 'utf-8')).toBe(withTypeApp);
    expect(tree.read('apps/jobs/src/app.setup.ts', 'utf-8')).toContain('JOBS_DEFAULT_PORT = 8084');
  });
});
