"""The Flask application for accounts-payable clerks, treasury, admins and auditors."""
