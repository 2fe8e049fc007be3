def test_transfer_gas(bond, holders, alice, bob):
    tx = bond.transfer(bob, 1, {"from": alice})
    print("transfer gas", tx.gas_used)
    assert bond.balanceOf(bob) == 51
