// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// x402-style payment flow for tests: a payer starts a flow, the facilitator decides (accept/reject),
/// then the flow settles or fails. Only events matter; the contract keeps just enough state to refuse
/// out-of-order calls.
contract X402Flow {
    enum Status { None, Started, Accepted, Rejected, Settled, Failed }

    mapping(bytes32 => Status) public status;

    event FlowStarted(bytes32 indexed flowId, address indexed payer, address indexed payee, address token, uint256 amount, string resource);
    event FlowDecision(bytes32 indexed flowId, bool accepted, string reason);
    event FlowSettled(bytes32 indexed flowId, bytes32 settlementRef);
    event FlowFailed(bytes32 indexed flowId, string reason);

    function start(bytes32 flowId, address payee, address token, uint256 amount, string calldata resource) external {
        require(status[flowId] == Status.None, "exists");
        status[flowId] = Status.Started;
        emit FlowStarted(flowId, msg.sender, payee, token, amount, resource);
    }

    function decide(bytes32 flowId, bool accepted, string calldata reason) external {
        require(status[flowId] == Status.Started, "not started");
        status[flowId] = accepted ? Status.Accepted : Status.Rejected;
        emit FlowDecision(flowId, accepted, reason);
    }

    function settle(bytes32 flowId, bytes32 settlementRef) external {
        require(status[flowId] == Status.Accepted, "not accepted");
        status[flowId] = Status.Settled;
        emit FlowSettled(flowId, settlementRef);
    }

    function fail(bytes32 flowId, string calldata reason) external {
        require(status[flowId] == Status.Accepted || status[flowId] == Status.Started, "not open");
        status[flowId] = Status.Failed;
        emit FlowFailed(flowId, reason);
    }
}
