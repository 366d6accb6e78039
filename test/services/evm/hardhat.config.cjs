// The local EVM node the collateral tests start (test/support/evm-node.ts): Hardhat 2's in-process
// network served over JSON-RPC. The chain id comes from HORDE_TEST_EVM_CHAIN_ID so a test can run
// a node whose id differs from what the validator expects.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.HORDE_TEST_EVM_CHAIN_ID || 31337),
      // A block per transaction, like a dev node; the tests wait for receipts as on a real chain.
      mining: { auto: true },
    },
  },
};
