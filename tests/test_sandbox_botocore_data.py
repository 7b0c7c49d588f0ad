"""sandbox/extensions/botocore_data.py: moto's botocore data read once, with the same answers."""

from __future__ import annotations

import boto3
import botocore.session
import moto.core.utils as moto_utils

from sandbox.extensions import botocore_data, install


def test_region_lists_and_models_are_the_ones_botocore_gives():
    install()
    fresh = botocore.session.Session()  # botocore's own, not the patched boto3 method
    for service in ("ec2", "s3", "iam", "kafka", "quicksight"):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            assert boto3.Session().get_available_regions(service, partition) == \
                fresh.get_available_regions(service, partition), (service, partition)
    regions = boto3.Session().get_available_regions("ec2")
    regions.append("mutated")  # a caller's list is its own
    assert "mutated" not in boto3.Session().get_available_regions("ec2")
    # One loader: a model moto loads twice is parsed once.
    assert moto_utils.create_loader() is moto_utils.create_loader() is botocore_data._loader()
    assert moto_utils.get_service_model("ec2").service_name == "ec2"
