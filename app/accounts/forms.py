"""Forms check shape; services check meaning."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp

from .models import ROLES


class SignUpForm(FlaskForm):
    email = EmailField("Work email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])
    workspace = StringField(
        "Company or workspace name", validators=[DataRequired(), Length(max=120)]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ForgotForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=10, max=200)])


class AcceptInvitationForm(FlaskForm):
    password = PasswordField("Choose a password", validators=[Optional(), Length(min=10, max=200)])


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=list(ROLES), default="viewer")


class WorkspaceSettingsForm(FlaskForm):
    name = StringField("Workspace name", validators=[DataRequired(), Length(max=120)])
    timezone = SelectField("Timezone", validators=[DataRequired()])
    brand_color = StringField(
        "Brand colour",
        validators=[
            DataRequired(),
            Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a colour like #4f46e5."),
        ],
    )
    logo_url = StringField(
        "Logo URL",
        validators=[
            Optional(),
            URL(require_tld=False, message="Use a full https:// address."),
            Length(max=500),
        ],
    )
    postal_address = StringField("Business address", validators=[Optional(), Length(max=300)])
    website_url = StringField(
        "Website",
        validators=[
            Optional(),
            URL(require_tld=False, message="Use a full https:// address."),
            Length(max=500),
        ],
    )


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    scope = SelectField(
        "Access",
        choices=[SelectChoice("read", "Read only"), SelectChoice("read_write", "Read and write")],
        default="read",
    )


class TwoFactorCodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])


class PasswordConfirmForm(FlaskForm):
    """An action that needs the password again (or a current 2FA code)."""

    password = PasswordField("Password", validators=[Optional(), Length(max=200)])
    code = StringField("Or a current 2FA code", validators=[Optional(), Length(max=20)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=10, max=200)]
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=list(ROLES))
