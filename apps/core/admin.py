from django.contrib import admin

from .models import MarketZone


@admin.register(MarketZone)
class MarketZoneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "timezone", "currency")
    search_fields = ("code", "name")
