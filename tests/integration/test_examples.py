"""Every config in examples/ passes `musterctl check`, in every environment
it defines (check without --environment checks them all): the examples the
README and their comments point at cannot rot."""

import glob
import os
import unittest

import harness

EXAMPLES = os.path.normpath(os.path.join(harness.HERE, "..", "..", "examples"))


class Examples(harness.TestCase):
    def test_every_example_config_passes_check(self):
        files = sorted(glob.glob(os.path.join(EXAMPLES, "*.toml")))
        self.assertGreaterEqual(len(files), 6, files)
        for path in files:
            with self.subTest(example=os.path.basename(path)):
                with open(path) as f:
                    text = f.read()
                built = os.path.join(EXAMPLES, "..", "build", "muster-hello")
                if "../build/" in text and not os.path.exists(built):
                    continue  # its worker is built in build/ (scripts/build), not here
                rc, out, err = self.daemon().ctl("check", path)
                self.assertEqual(rc, 0, out + err)
                self.assertIn(": ok", out)


if __name__ == "__main__":
    unittest.main()
