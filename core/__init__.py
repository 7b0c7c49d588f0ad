"""What every layer shares without reaching up: errors and how AWS answers are classified."""
