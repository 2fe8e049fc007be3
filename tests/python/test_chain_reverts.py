"""greenbond.chain.reverts: one decoder for every node's shape of a custom-error revert (the
feeder, the offering and deploy all use it)."""

from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from greenbond.chain.reverts import build_selectors, decode_revert, error_selectors

ABI = [{"type": "error", "name": "OracleHourAlreadyReported",
        "inputs": [{"name": "facilityId", "type": "uint32"}, {"name": "hour", "type": "uint64"}]},
       {"type": "error", "name": "Named", "inputs": [{"name": "what", "type": "bytes32"}]},
       {"type": "function", "name": "f", "inputs": [], "outputs": []}]


def payload(signature: str, types: list, values: list) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()


def test_selectors_only_for_errors():
    sel = error_selectors(ABI)
    assert {name for name, _ in sel.values()} == {"OracleHourAlreadyReported", "Named"}


def test_every_shape_the_nodes_give():
    data = payload("OracleHourAlreadyReported(uint32,uint64)", ["uint32", "uint64"], [2, 1702566000])
    sel = error_selectors(ABI)
    want = "OracleHourAlreadyReported(2, 1702566000)"
    assert decode_revert(ContractCustomError(data, data=data), sel) == want          # web3's own
    assert decode_revert(ValueError({"code": 3, "message": "reverted", "data": data}), sel) == want  # a dict
    assert decode_revert(ContractLogicError(f"execution reverted: custom error {data}"), sel) == want  # in text


def test_bytes32_arguments_read_as_text_and_unknown_errors_as_the_message():
    data = payload("Named(bytes32)", ["bytes32"], [b"settlement".ljust(32, b"\0")])
    assert decode_revert(ValueError(data), error_selectors(ABI)) == "Named(settlement)"
    assert decode_revert(ValueError("execution reverted:\n  0xdeadbeef00"), error_selectors(ABI)) == \
        "execution reverted: 0xdeadbeef00"


def test_the_build_knows_every_contracts_errors():
    names = {name for name, _ in build_selectors().values()}
    # ours and OpenZeppelin's, from contracts and interfaces alike
    assert {"GreenBondWalletFrozen", "OracleHourAlreadyReported", "DvPExpired", "AccessControlUnauthorizedAccount",
            "ERC20InsufficientBalance"} <= names
