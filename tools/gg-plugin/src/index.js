// @gg/plugin: the workspace generators (generators.json). Registered by the `@gg/plugin` path in tsconfig.base.json.
const { libGenerator } = require('./generators/lib/generator');
const { appGenerator } = require('./generators/app/generator');

module.exports = { libGenerator, appGenerator };
