from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from samhandling.core.models import AccessLog, Municipality, OrganisationUnit, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Samhandling", {"fields": ("units", "hpr_number")}))
    filter_horizontal = ("groups", "user_permissions", "units")


@admin.register(OrganisationUnit)
class OrganisationUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "code")
    list_filter = ("kind",)
    search_fields = ("name", "code")
    filter_horizontal = ("municipalities",)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "county_name")
    search_fields = ("number", "name")


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "actor_roles", "object_type", "object_key", "purpose")
    list_filter = ("purpose", "object_type")

    def has_add_permission(self, request):  # the log is written by services only
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
