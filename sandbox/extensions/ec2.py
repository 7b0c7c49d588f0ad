"""EC2: a deleted NAT gateway releases its Elastic IP and network interface, as in AWS.

moto 5.2.5 only flips the gateway's state to "deleted": its EIP stays
associated (a new NAT on the same allocation fails with
Resource.AlreadyAssociated) and its ENI keeps the subnet busy.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.nat_gateways import NatGatewayBackend


def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
    nat_gw = self._moto_delete_nat_gateway(nat_gateway_id)
    eni = getattr(nat_gw, "_eni", None)
    if eni is not None:
        for eip in list(self.addresses):
            if eip.eni is eni and eip.association_id:
                self.disassociate_address(association_id=eip.association_id)
        self.enis.pop(eni.id, None)
        nat_gw._eni = None
    return nat_gw


def install() -> None:
    if NatGatewayBackend.__dict__.get("delete_nat_gateway") is delete_nat_gateway:
        return
    NatGatewayBackend._moto_delete_nat_gateway = NatGatewayBackend.delete_nat_gateway  # type: ignore[attr-defined]
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway  # type: ignore[method-assign]
