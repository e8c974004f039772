// Copies what tsc does not: node and credential icons and the nodes' codex files (n8n loads both from dist/ next
// to the compiled code: a node's codex is `<Name>.node.json` beside `<Name>.node.js`) and the SQL migrations the
// library applies at run time.
const { src, dest, parallel } = require('gulp');

// encoding: false keeps PNG icons byte-exact (gulp 5 decodes files as UTF-8 by default).
function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false, allowEmpty: true }).pipe(dest('dist'));
}

// The codex (categories, search aliases, docs link) the node panel's search and the Docs link read.
function copyCodex() {
	return src('nodes/**/*.node.json', { base: '.' }).pipe(dest('dist'));
}

function copyMigrations() {
	return src('lib/db/migrations/*.sql', { base: '.' }).pipe(dest('dist'));
}

exports['build:assets'] = parallel(copyIcons, copyCodex, copyMigrations);
