// Copies what tsc does not: node and credential icons (n8n loads them from dist/ next to the compiled code)
// and the SQL migrations the library applies at run time.
const { src, dest, parallel } = require('gulp');

// encoding: false keeps PNG icons byte-exact (gulp 5 decodes files as UTF-8 by default).
function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false, allowEmpty: true }).pipe(dest('dist'));
}

function copyMigrations() {
	return src('lib/db/migrations/*.sql', { base: '.' }).pipe(dest('dist'));
}

exports['build:assets'] = parallel(copyIcons, copyMigrations);
