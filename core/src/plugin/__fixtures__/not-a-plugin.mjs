// A module whose default export was not made with definePlugin.
export default { name: 'fixture-not-a-plugin', register() {} };
