// The client package's name and version. The name is the project's (schema.json's model name is the project name
// train.py was generated with): `<project>-client`, so two projects' clients can sit in one frontend. The version is
// `<client version>-model-<model version>`: the client's own semver (client/package.json, bumped when its code
// changes) with the model's version as the prerelease part. npm reinstalls a dependency only when its spec changes,
// and `npm pack` names the tarball `<name>-<version>.tgz`, so every retrained model gets a new tarball path; a
// frontend's `npm install <new path>` then installs it and records it in package-lock.json, and `npm ci` follows
// the lock. (Build metadata, `+<model>`, would not do: npm drops it, so two models would share a version.) The
// "model-" prefix keeps the prerelease identifier valid semver whatever the model version is (an all-digit hash with a
// leading zero would not be). Frontends install exact tarballs, never ranges, so prerelease ordering does not matter.

/** An npm package name from a project name: lower case, URL-safe, not starting with `.` or `_`. */
export function clientPackageName(project: string): string {
  const base = project
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/-+$/, '');
  return `${(base || 'sci-eb').slice(0, 200)}-client`;
}

/** `<client version>-model-<model version>`, the model version cut to semver's prerelease characters. */
export function clientPackageVersion(clientVersion: string, modelVersion: string): string {
  const model = modelVersion.replace(/[^0-9A-Za-z-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
  return `${clientVersion.replace(/-.*$/, '')}-model-${model}`;
}
