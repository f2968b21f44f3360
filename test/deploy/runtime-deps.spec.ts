import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './k8s-render';

/** Source files that end up in the image (tsconfig.build.json: the four apps and libs, no tests, no testing). */
function productionSources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'testing' && e.name !== 'node_modules') productionSources(p, out);
    } else if (/\.ts$/.test(e.name) && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Packages a file loads at run time: value imports, dynamic imports, requires (type-only imports are erased). */
export function runtimeImports(source: string): string[] {
  const names = new Set<string>();
  const statements = source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm);
  for (const m of statements) if (!m[2]) names.add(m[3]);
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) names.add(m[1]);
  for (const m of source.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)) names.add(m[1]);
  return [...names];
}

function packageOf(spec: string): string | null {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || spec.startsWith('@gg/')) return null;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  return builtinModules.includes(name) ? null : name;
}

describe('runtime dependencies of the image', () => {
  it('finds value imports and skips type-only ones', () => {
    const src = `import type { A } from 'types-only';\nimport { B } from 'value-pkg';\nimport 'side-effect';\nconst x = await import('lazy-pkg');\nexport { C } from 'reexport';`;
    expect(runtimeImports(src).sort()).toEqual(['lazy-pkg', 'reexport', 'side-effect', 'value-pkg']);
  });

  it('has every package the built apps load in "dependencies" (the image installs only those)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const dirs = [
      'apps/gateway/src',
      'apps/auth/src',
      'apps/key-pool/src',
      'apps/admin/src',
      ...readdirSync(join(ROOT, 'libs'))
        .filter((l) => l !== 'testing')
        .map((l) => `libs/${l}/src`),
    ];
    const missing: string[] = [];
    for (const file of dirs.flatMap((d) => productionSources(join(ROOT, d)))) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        const name = packageOf(spec);
        if (name && !pkg.dependencies[name]) missing.push(`${name} (${relative(ROOT, file)})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
