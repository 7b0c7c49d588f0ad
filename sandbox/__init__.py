"""How moto runs for this project: in-process for tests, as a local server for people.

Both load the same settings and fidelity extensions, so what passes in a
test behaves the same in `infra sandbox`.
"""
