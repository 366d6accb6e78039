// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2025, bactensor (the design and the interface);
// horde's copy, written after bactensor/collateral-contracts src/Collateral.sol @ 4f23d94.
pragma solidity ^0.8.26;

/// @title Miner collateral held for one subnet validator (the trustee)
/// @notice Miners deposit TAO; the trustee (the validator that deployed the contract) may slash a
///         miner caught cheating, with a URL that says why, and may deny a reclaim within the
///         decision timeout. The ABI is ComputeHorde's, so tools written for the original work.
contract Collateral {
    uint16 public immutable NETUID;
    address public immutable TRUSTEE;
    uint64 public immutable DECISION_TIMEOUT;
    uint256 public immutable MIN_COLLATERAL_INCREASE;

    mapping(uint256 => Reclaim) public reclaims;
    mapping(address => uint256) public collaterals;

    mapping(address => uint256) private collateralUnderPendingReclaims;
    uint256 private nextReclaimId;

    struct Reclaim {
        address miner;
        uint256 amount;
        uint256 denyTimeout;
    }

    event Deposit(address indexed account, uint256 amount);
    event ReclaimProcessStarted(
        uint256 indexed reclaimRequestId,
        address indexed account,
        uint256 amount,
        uint64 expirationTime,
        string url,
        bytes16 urlContentMd5Checksum
    );
    event Reclaimed(uint256 indexed reclaimRequestId, address indexed account, uint256 amount);
    event Denied(uint256 indexed reclaimRequestId, string url, bytes16 urlContentMd5Checksum);
    event Slashed(address indexed account, uint256 amount, string url, bytes16 urlContentMd5Checksum);

    error AmountZero();
    error BeforeDenyTimeout();
    error InsufficientAmount();
    error InvalidDepositMethod();
    error NotTrustee();
    error PastDenyTimeout();
    error ReclaimAmountTooLarge();
    error ReclaimAmountTooSmall();
    error ReclaimNotFound();
    error TransferFailed();

    /// @param netuid the subnet
    /// @param trustee H160 address allowed to slash and to deny reclaims (the validator)
    /// @param minCollateralIncrease the smallest deposit or partial reclaim, in wei
    /// @param decisionTimeout seconds the trustee has to deny a reclaim
    constructor(uint16 netuid, address trustee, uint256 minCollateralIncrease, uint64 decisionTimeout) {
        require(trustee != address(0), "Trustee address must be non-zero");
        require(minCollateralIncrease > 0, "Min collateral increase must be greater than 0");
        require(decisionTimeout > 0, "Decision timeout must be greater than 0");
        NETUID = netuid;
        TRUSTEE = trustee;
        MIN_COLLATERAL_INCREASE = minCollateralIncrease;
        DECISION_TIMEOUT = decisionTimeout;
    }

    modifier onlyTrustee() {
        if (msg.sender != TRUSTEE) revert NotTrustee();
        _;
    }

    // Plain transfers would leave TAO no account owns: deposits go through deposit() only.
    receive() external payable {
        revert InvalidDepositMethod();
    }

    fallback() external payable {
        revert InvalidDepositMethod();
    }

    /// @notice Adds msg.value to the sender's collateral (at least MIN_COLLATERAL_INCREASE).
    function deposit() external payable {
        if (msg.value < MIN_COLLATERAL_INCREASE) revert InsufficientAmount();
        collaterals[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    /// @notice Starts taking `amount` back; finalizeReclaim pays it after DECISION_TIMEOUT unless
    ///         the trustee denies it first. A partial reclaim is at least MIN_COLLATERAL_INCREASE.
    function reclaimCollateral(uint256 amount, string calldata url, bytes16 urlContentMd5Checksum) external {
        if (amount == 0) revert AmountZero();
        uint256 collateral = collaterals[msg.sender];
        uint256 pendingCollateral = collateralUnderPendingReclaims[msg.sender];
        uint256 collateralAvailableForReclaim = collateral - pendingCollateral;
        if (pendingCollateral + amount > collateral) revert ReclaimAmountTooLarge();
        if (amount < MIN_COLLATERAL_INCREASE && collateralAvailableForReclaim != amount) revert ReclaimAmountTooSmall();

        uint64 expirationTime = uint64(block.timestamp) + DECISION_TIMEOUT;
        reclaims[++nextReclaimId] = Reclaim(msg.sender, amount, expirationTime);
        collateralUnderPendingReclaims[msg.sender] += amount;
        emit ReclaimProcessStarted(nextReclaimId, msg.sender, amount, expirationTime, url, urlContentMd5Checksum);
    }

    /// @notice Pays a reclaim whose decision timeout has passed (anyone may call it). A miner
    ///         slashed below the amount meanwhile gets nothing and the request is dropped.
    function finalizeReclaim(uint256 reclaimRequestId) external {
        Reclaim memory reclaim = reclaims[reclaimRequestId];
        if (reclaim.amount == 0) revert ReclaimNotFound();
        if (reclaim.denyTimeout >= block.timestamp) revert BeforeDenyTimeout();

        delete reclaims[reclaimRequestId];
        collateralUnderPendingReclaims[reclaim.miner] -= reclaim.amount;
        if (collaterals[reclaim.miner] < reclaim.amount) return;

        collaterals[reclaim.miner] -= reclaim.amount;
        emit Reclaimed(reclaimRequestId, reclaim.miner, reclaim.amount);
        // Effects before the interaction: no re-entrancy can pay twice.
        (bool success,) = payable(reclaim.miner).call{value: reclaim.amount}("");
        if (!success) revert TransferFailed();
    }

    /// @notice The trustee refuses a pending reclaim before its timeout, saying why at `url`.
    function denyReclaimRequest(uint256 reclaimRequestId, string calldata url, bytes16 urlContentMd5Checksum)
        external
        onlyTrustee
    {
        Reclaim memory reclaim = reclaims[reclaimRequestId];
        if (reclaim.amount == 0) revert ReclaimNotFound();
        if (reclaim.denyTimeout < block.timestamp) revert PastDenyTimeout();
        collateralUnderPendingReclaims[reclaim.miner] -= reclaim.amount;
        emit Denied(reclaimRequestId, url, urlContentMd5Checksum);
        delete reclaims[reclaimRequestId];
    }

    /// @notice The trustee burns `amount` of a miner's collateral, saying why at `url`.
    function slashCollateral(address miner, uint256 amount, string calldata url, bytes16 urlContentMd5Checksum)
        external
        onlyTrustee
    {
        if (amount == 0) revert AmountZero();
        if (collaterals[miner] < amount) revert InsufficientAmount();
        collaterals[miner] -= amount;
        (bool success,) = payable(address(0)).call{value: amount}("");
        if (!success) revert TransferFailed();
        emit Slashed(miner, amount, url, urlContentMd5Checksum);
    }
}
