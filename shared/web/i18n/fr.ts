// French: "vous" throughout; "boîte aux lettres" and "annuaire" as in Microsoft's French admin texts,
// "champ d'application" for an OAuth scope as in Google's. French typography: a no-break space (\u00a0)
// before : ; ? and inside « », so a line never starts with the punctuation. Console menu names stay in
// English in parentheses, since many admins run those consoles in English.
import type { Catalog } from './catalog.js';

export const fr: Catalog = {
  'site.name': 'Connexion de boîtes aux lettres à l’outil d’assistance',
  'site.skip': 'Aller au contenu principal',
  'site.languages': 'Langue',

  'common.never': 'Jamais',
  'common.noActions': 'Aucune action disponible',
  'common.notActive': 'Inactif',
  'common.noAddress': 'Adresse indisponible',
  'common.backToStatus': 'Retour à vos boîtes aux lettres',

  'provider.gmail': 'Gmail',
  'provider.graph': 'Microsoft 365',

  'state.connected': 'Connectée',
  'state.reauthorization_required': 'Nouvelle autorisation requise',
  'state.disconnected': 'Déconnectée',

  'connect.google': 'Connecter Google Workspace ou Gmail',
  'connect.microsoft': 'Connecter Microsoft 365',

  'landing.title': 'Connecter une boîte aux lettres',
  'landing.heading': 'Connecter une boîte aux lettres pour {tenant}',
  'landing.intro':
    'Vous avez reçu une invitation à connecter une boîte aux lettres de support de l’organisation {tenant} à l’outil d’assistance. Une fois qu’elle est connectée, les e-mails qu’elle reçoit deviennent des tickets, et les réponses de votre équipe partent de la même adresse.',
  'landing.does.heading': 'Ce que fait la connexion',
  'landing.does.tickets': 'Chaque nouvel e-mail reçu dans la boîte aux lettres devient un ticket, ou s’ajoute au ticket de la conversation à laquelle il appartient.',
  'landing.does.replies': 'Les réponses rédigées dans l’outil d’assistance partent de la boîte aux lettres\u00a0: vos clients voient donc votre adresse habituelle.',
  'landing.does.control': 'Pendant votre session, vous pouvez vérifier, reconnecter et déconnecter la boîte aux lettres depuis ces pages.',
  'landing.providers.heading': 'Choisissez votre fournisseur de messagerie',
  'landing.providers.intro': 'Voici exactement ce que chaque fournisseur vous demandera d’autoriser.',
  'landing.expires': 'Cette invitation expire le {datetime}.',
  'landing.once': 'L’invitation ne peut être utilisée qu’une seule fois. Elle ouvre une session de 8 heures au maximum dans ce navigateur.',

  'promises.heading': 'Comment vos e-mails sont protégés',
  'promises.encryption':
    'Les e-mails sont chiffrés au repos en AES-256, avec des clés gérées dans AWS Key Management Service (KMS), et ne circulent que par des connexions chiffrées (TLS).',
  'promises.logging': 'Chaque accès aux données de la boîte aux lettres est journalisé.',
  'promises.isolation':
    'Aucun autre client ne peut voir ces données, et elles ne sont transmises à aucun autre service que votre fournisseur de messagerie et Amazon Web Services (AWS), où elles sont stockées et traitées.',
  'promises.deletion':
    'Si vous déconnectez une boîte aux lettres, toutes ses données sont supprimées de nos systèmes actifs sous 30 jours, et les sauvegardes qui les contiennent disparaissent dans un délai d’un an.',

  'access.google.heading': 'Google Workspace ou Gmail',
  'access.google.intro': 'Vous vous connectez avec le compte Google de la boîte aux lettres elle-même et accordez deux autorisations Gmail\u00a0:',
  'access.google.read':
    'Lire la boîte aux lettres (champ d’application Gmail en lecture seule, gmail.readonly)\u00a0: ses messages, l’historique des modifications et les notifications de nouveaux e-mails.',
  'access.google.send': 'Envoyer des réponses depuis la boîte aux lettres (champ d’application Gmail d’envoi, gmail.send).',
  'access.google.limit': 'Aucune de ces autorisations ne nous permet de modifier ou de supprimer quoi que ce soit dans la boîte aux lettres.',
  'access.microsoft.intro': 'Un administrateur de votre annuaire Microsoft Entra accorde à l’outil d’assistance deux autorisations d’application Microsoft Graph\u00a0:',
  'access.microsoft.read': 'Mail.ReadWrite\u00a0: lire les e-mails des boîtes aux lettres que vous indiquez et rédiger les brouillons par lesquels partent les réponses de votre équipe. Nous ne modifions ni ne supprimons vos e-mails.',
  'access.microsoft.send': 'Mail.Send\u00a0: envoyer des réponses depuis ces boîtes aux lettres.',
  'access.microsoft.limit':
    'Microsoft accorde ces autorisations pour l’ensemble de l’annuaire. Nous ne les utilisons que pour les boîtes aux lettres que vous indiquerez à l’étape suivante, et votre administrateur Exchange peut en outre limiter l’application à ces seules boîtes aux lettres.',

  'googleNotice.heading': 'Google\u00a0: à quoi vous attendre',
  'googleNotice.restricted':
    'La lecture de Gmail relève d’un champ d’application restreint (restricted scope)\u00a0: avant qu’une application qui l’utilise puisse être proposée au public, Google exige une validation et une évaluation de sécurité indépendante.',
  'googleNotice.testing':
    'Tant que l’écran de consentement OAuth de l’application est à l’état «\u00a0Testing\u00a0», Google met fin à son accès au bout de 7 jours (le jeton d’actualisation cesse de fonctionner)\u00a0: la boîte aux lettres vous demandera alors de la reconnecter.',
  'googleNotice.trusted':
    'Dans Google Workspace, un administrateur devra peut-être d’abord marquer l’application comme fiable dans la console d’administration (Security › API controls) avant que les utilisateurs puissent lui accorder l’accès.',
  'googleNotice.link': 'Pourquoi Google le demande',

  'status.title': 'Vos boîtes aux lettres',
  'status.heading': 'Boîtes aux lettres de l’organisation {tenant}',
  'status.caption': 'Boîtes aux lettres et état de leur connexion',
  'status.col.provider': 'Fournisseur',
  'status.col.address': 'Adresse',
  'status.col.state': 'Connexion',
  'status.col.lastNotified': 'Dernière notification de nouvel e-mail',
  'status.col.lastSynced': 'Dernière synchronisation',
  'status.col.watchExpires': 'Fin de l’abonnement aux notifications',
  'status.col.actions': 'Actions',
  'status.purgeBy': 'Toutes les données supprimées au plus tard le {date}',
  'status.reconnect': 'Reconnecter',
  'status.disconnect': 'Déconnecter',
  'status.empty': 'Aucune boîte aux lettres n’est encore connectée.',
  'status.connectFirst': 'Connecter une boîte aux lettres',
  'status.connectAnother': 'Connecter une autre boîte aux lettres',
  'status.session': 'Votre session se termine le {datetime}. Ensuite, il vous faudra un nouveau lien d’invitation pour revenir.',
  'status.signOut': 'Se déconnecter',
  'signedOut.title': 'Votre session est fermée',
  'signedOut.text': 'Ce navigateur n’a plus accès à vos boîtes aux lettres. Pour les gérer de nouveau, demandez un nouveau lien d’invitation à la personne qui vous l’avait envoyé.',
  'status.microsoft.heading': 'Retirer entièrement l’accès à Microsoft 365',
  'status.microsoft.text':
    'Déconnecter une boîte aux lettres met fin à notre accès à celle-ci. Pour retirer entièrement l’accès de l’application à votre annuaire, un administrateur général ou un administrateur de rôle privilégié supprime l’application dans le centre d’administration Microsoft Entra, sous Applications d’entreprise (Enterprise applications).',

  'notice.connected': 'La boîte aux lettres est connectée. Les nouveaux e-mails qu’elle reçoit deviennent désormais des tickets.',
  'notice.reconnected': 'La boîte aux lettres est reconnectée.',
  'notice.disconnected': 'La boîte aux lettres est déconnectée. Ses données seront supprimées au plus tard à la date indiquée ci-dessous.',
  'notice.microsoft_consented': 'L’accès à Microsoft 365 a été accordé pour votre annuaire. Vos boîtes aux lettres sont listées ci-dessous.',

  'msMailboxes.title': 'Choisir les boîtes aux lettres Microsoft 365',
  'msMailboxes.heading': 'Choisissez les boîtes aux lettres à connecter',
  'msMailboxes.consented':
    'Le consentement a été accordé pour l’annuaire Microsoft Entra de l’organisation {tenant}. Indiquez maintenant les boîtes aux lettres que l’outil d’assistance doit lire et depuis lesquelles il doit répondre\u00a0; les autorisations ne seront utilisées pour aucune autre boîte aux lettres.',
  'msMailboxes.domains.heading': 'Domaines vérifiés',
  'msMailboxes.domains.intro': 'Chaque adresse doit appartenir à l’un des domaines vérifiés de votre annuaire\u00a0:',
  'msMailboxes.domains.none':
    'Votre annuaire n’a aucun domaine vérifié\u00a0: aucune boîte aux lettres ne peut donc encore être connectée. Ajoutez et vérifiez un domaine dans le centre d’administration Microsoft Entra, puis recommencez.',
  'msMailboxes.label': 'Adresses des boîtes aux lettres',
  'msMailboxes.hint': 'Une adresse par ligne, ou plusieurs séparées par des virgules ; 20 au plus à la fois.',
  'msMailboxes.refused.heading': 'Certaines adresses n’ont pas été acceptées',
  'msMailboxes.refused.intro': 'Corrigez ou retirez ces adresses, puis envoyez de nouveau la liste\u00a0:',
  'msMailboxes.submit': 'Connecter ces boîtes aux lettres',
  'refused.domain_not_verified': 'Son domaine ne fait pas partie des domaines vérifiés de votre annuaire.',
  'refused.invalid_address': 'Cette adresse e-mail n’est pas valide.',
  'refused.mailbox_in_use': 'Cette boîte aux lettres est déjà connectée à un autre outil d’assistance.',
  'refused.provider_error': 'Microsoft 365 n’a pas pu confirmer cette boîte aux lettres. Vérifiez qu’elle existe dans Exchange Online, puis réessayez.',

  'disconnect.title': 'Déconnecter une boîte aux lettres',
  'disconnect.heading': 'Déconnecter cette boîte aux lettres\u00a0?',
  'disconnect.what': 'Ce qui se passe lorsque vous déconnectez',
  'disconnect.notifications': 'Nous cessons de recevoir les notifications de nouveaux e-mails\u00a0: plus aucun ticket n’est créé à partir de cette boîte aux lettres.',
  'disconnect.access':
    'Notre accès est retiré\u00a0: les jetons enregistrés sont supprimés et l’outil d’assistance ne peut plus lire d’e-mails ni en envoyer au nom de cette boîte aux lettres.',
  'disconnect.data': 'Ses tickets, messages et pièces jointes sont masqués immédiatement, puis supprimés de nos systèmes actifs au plus tard le {date}.',
  'disconnect.backups': 'Les copies présentes dans les sauvegardes expirent dans un délai d’un an.',
  'disconnect.untouched': 'Les e-mails de la boîte aux lettres elle-même ne sont pas modifiés.',
  'disconnect.final': 'Cette action est irréversible.',
  'disconnect.confirm': 'Déconnecter et supprimer',
  'disconnect.cancel': 'Annuler et revenir à vos boîtes aux lettres',

  'error.invite_invalid.title': 'Ce lien d’invitation n’est pas valide',
  'error.invite_invalid.text':
    'Le lien est peut-être incomplet. Copiez le lien entier depuis l’e-mail d’invitation, ou demandez une nouvelle invitation à la personne qui vous l’a envoyée.',
  'error.invite_expired.title': 'Cette invitation a expiré',
  'error.invite_expired.text': 'Une invitation n’est valable que pendant une durée limitée. Demandez-en une nouvelle à la personne qui vous l’a envoyée.',
  'error.invite_used.title': 'Cette invitation a déjà été utilisée',
  'error.invite_used.text': 'Chaque invitation ne fonctionne qu’une seule fois. Demandez-en une nouvelle à la personne qui vous l’a envoyée.',
  'error.invite_revoked.title': 'Cette invitation a été retirée',
  'error.invite_revoked.text':
    'L’invitation a été annulée. Si vous devez encore connecter une boîte aux lettres, demandez une nouvelle invitation à la personne qui vous l’avait envoyée.',
  'error.session_expired.title': 'Votre session est terminée',
  'error.session_expired.text':
    'Une session dure 8 heures au maximum et nécessite que votre navigateur accepte les cookies. Pour continuer, demandez un nouveau lien d’invitation à la personne qui vous a envoyé l’invitation.',
  'error.state_invalid.title': 'L’authentification n’a pas pu être associée à votre session',
  'error.state_invalid.text':
    'Elle a peut-être été lancée dans un autre navigateur, un autre onglet ou depuis une page plus ancienne. Recommencez la connexion de la boîte aux lettres depuis ce navigateur.',
  'error.state_replayed.title': 'Cette authentification a déjà été effectuée',
  'error.state_replayed.text':
    'La réponse de la page d’authentification a déjà été utilisée, par exemple après un retour en arrière ou un rechargement de la page. Vérifiez vos boîtes aux lettres, ou recommencez la connexion.',
  'error.state_expired.title': 'L’authentification a pris trop de temps',
  'error.state_expired.text': 'Une authentification doit être terminée dans un délai limité. Recommencez la connexion.',
  'error.access_denied.title': 'La connexion a été annulée',
  'error.access_denied.text':
    'L’accès n’a pas été accordé sur la page d’authentification\u00a0: rien n’a donc été connecté. Vous pouvez recommencer quand vous le souhaitez.',
  'error.redirect_mismatch.title': 'L’authentification n’a pas pu aboutir',
  'error.redirect_mismatch.text':
    'Le fournisseur de messagerie n’a pas accepté l’authentification depuis ce site. Recommencez la connexion\u00a0; si l’échec se répète, contactez la personne qui vous a envoyé l’invitation.',
  'error.wrong_directory.title': 'Le consentement concerne un autre annuaire',
  'error.wrong_directory.text':
    'Le consentement administrateur a été donné pour un autre annuaire Microsoft Entra que celui de votre compte. Connectez-vous avec un compte administrateur de l’annuaire qui contient les boîtes aux lettres, puis recommencez.',
  'error.not_admin.title': 'Un compte administrateur est nécessaire',
  'error.not_admin.text':
    'Seul un administrateur général ou un administrateur de rôle privilégié de votre annuaire Microsoft Entra peut accorder ces autorisations. Connectez-vous avec un tel compte, ou demandez à l’une de ces personnes de terminer cette étape.',
  'error.wrong_account.title': 'Ce n’est pas le bon compte',
  'error.wrong_account.text':
    'Cette étape doit être confirmée en vous authentifiant avec le compte de la boîte aux lettres elle-même (pour Microsoft 365, un administrateur de son annuaire). Authentifiez-vous avec ce compte et réessayez.',
  'error.csrf.title': 'Le formulaire n’a pas pu être accepté',
  'error.csrf.text': 'Par sécurité, les formulaires expirent au bout d’un certain temps. Revenez en arrière, rechargez la page et réessayez.',
  'error.mailbox_in_use.title': 'Cette boîte aux lettres est déjà connectée ailleurs',
  'error.mailbox_in_use.text':
    'La boîte aux lettres est connectée à un autre outil d’assistance. Déconnectez-la d’abord de celui-ci, ou choisissez une autre boîte aux lettres.',
  'error.internal_error.title': 'Un problème est survenu de notre côté',
  'error.internal_error.text': 'La demande n’a pas pu aboutir. Patientez quelques minutes puis réessayez ; si le problème persiste, contactez la personne qui vous a invité.',
  'error.provider_error.title': 'Le fournisseur de messagerie n’a pas pu traiter la demande',
  'error.provider_error.text':
    'Google ou Microsoft n’a pas répondu comme prévu. Patientez quelques minutes et réessayez\u00a0; si le problème persiste, contactez la personne qui vous a envoyé l’invitation.',
  'error.not_found.title': 'Page introuvable',
  'error.not_found.text': 'Aucune page n’existe à cette adresse. Vérifiez le lien que vous avez suivi.',
  'error.bad_request.title': 'La demande n’a pas pu être traitée',
  'error.bad_request.text': 'Un élément de la demande manquait ou n’était pas valide. Revenez en arrière et réessayez.',

  // La consultation des tickets de npm start (/tickets).
  'viewer.site.name': 'Consultation des tickets',
  'viewer.site.readOnly': 'Lecture seule, pour l’opérateur de cette machine. Chaque consultation est consignée dans le journal des accès.',
  'viewer.back': 'Retour à tous les tickets',
  'viewer.noSubject': '(sans objet)',

  'viewer.col.subject': 'Objet',
  'viewer.col.requester': 'Demandeur',
  'viewer.col.mailbox': 'Boîte aux lettres',
  'viewer.col.lastActivity': 'Dernière activité',
  'viewer.col.messages': 'Nombre de messages',

  'viewer.list.title': 'Tous les tickets',
  'viewer.list.heading': 'Tickets de l’organisation {tenant}',
  'viewer.list.intro': 'Activité la plus récente en premier. Ouvrez un ticket pour lire la conversation et les pièces jointes.',
  'viewer.list.caption': 'Tickets, activité la plus récente en premier',
  'viewer.list.range': 'Tickets {from} à {to} sur {total}',
  'viewer.list.empty':
    'Il n’y a encore aucun ticket. Déposez un fichier .eml dans le dossier de réception indiqué par npm start, ou envoyez un e-mail à une boîte aux lettres du bac à sable.',
  'viewer.list.pages': 'Autres tickets',
  'viewer.list.newer': 'Tickets plus récents',
  'viewer.list.older': 'Tickets plus anciens',

  'viewer.ticket.opened': 'Ouverture',
  'viewer.ticket.logged': 'L’ouverture de ce ticket a été consignée dans le journal des accès.',
  'viewer.ticket.thread': 'Messages ({count}), du plus ancien au plus récent',

  'viewer.message.heading': 'Message {number} sur {total}',
  'viewer.message.outbound': 'Envoyé par le service d’assistance',
  'viewer.message.from': 'De',
  'viewer.message.to': 'À',
  'viewer.message.cc': 'Copie à',
  'viewer.message.sent': 'Envoyé',
  'viewer.message.received': 'Reçu',
  'viewer.message.noDate': 'Aucune date dans le message',
  'viewer.message.nobody': 'Aucun destinataire',

  'viewer.notices.heading': 'Avertissements',

  'viewer.notice.unparsed': 'Le message n’a pas pu être lu entièrement. L’original est conservé pour l’opérateur.',
  'viewer.notice.message_truncated': 'Le message dépassait la taille maximale. Tout ce qui suivait la limite a été supprimé.',
  'viewer.notice.header_too_large': 'Un bloc d’en-têtes dépassait la limite. La lecture s’est arrêtée là.',
  'viewer.notice.too_many_parts': 'Le message compte plus de parties que la limite. Les parties suivantes ont été ignorées.',
  'viewer.notice.nesting_too_deep': 'Le message est imbriqué trop profondément. Les parties les plus internes ont été ignorées.',
  'viewer.notice.attachment_too_large': 'Une pièce jointe dépassait la taille maximale et n’a pas été conservée.',
  'viewer.notice.too_many_attachments': 'Le message comptait plus de pièces jointes que la limite. Les autres n’ont pas été conservées.',
  'viewer.notice.attachment_infected':
    'Une pièce jointe contient un logiciel malveillant. Elle n’a pas été conservée et n’est jamais proposée au téléchargement.',
  'viewer.notice.attachment_unscanned':
    'Une pièce jointe n’a pas encore passé d’analyse antivirus. Elle est retenue jusqu’à ce qu’une analyse réussisse.',
  'viewer.notice.message_id_synthesized': 'Le message n’avait pas de Message-ID. Un identifiant a été créé à partir de son contenu.',
  'viewer.notice.new_participant': 'Une nouvelle personne a rejoint la conversation.',
  'viewer.notice.text_not_derived': 'Aucune version en texte brut n’a pu être tirée de ce message. Sa version HTML est conservée.',
  'viewer.notice.unknown': 'Un point de ce message demande votre attention.',

  'viewer.body.heading': 'Contenu du message {number}',
  'viewer.body.frameTitle': 'Message {number}, version HTML',
  'viewer.body.isolated':
    'Affiché dans un cadre isolé : scripts, formulaires, styles et images distantes ont été retirés, et les liens ne peuvent pas être ouverts d’ici.',
  'viewer.body.plainText': 'Version en texte brut',
  'viewer.body.empty': 'Ce message ne contient aucun texte.',

  'viewer.attachments.caption': 'Pièces jointes du message {number}',
  'viewer.attachments.col.filename': 'Nom du fichier',
  'viewer.attachments.col.type': 'Type de fichier',
  'viewer.attachments.col.size': 'Taille',
  'viewer.attachments.col.scan': 'Analyse antivirus',
  'viewer.attachments.col.download': 'Télécharger',
  'viewer.attachments.download': 'Télécharger',
  'viewer.attachments.inline': 'Intégrée au message',

  'viewer.scan.clean': 'Saine',
  'viewer.scan.infected': 'Infectée',
  'viewer.scan.infectedWith': 'Infectée ({signature})',
  'viewer.scan.unscanned': 'Non analysée',
  'viewer.scan.pending': 'Analyse en cours',

  'viewer.blocked.infected': 'Indisponible : le fichier est infecté et n’a pas été conservé.',
  'viewer.blocked.unscanned': 'Indisponible tant qu’elle n’a pas passé d’analyse antivirus.',
  'viewer.blocked.pending': 'Indisponible pendant l’analyse antivirus.',
  'viewer.blocked.too_large': 'Indisponible : le fichier dépassait la taille maximale et n’a pas été conservé.',
  'viewer.blocked.not_kept': 'Indisponible : le fichier n’a pas été conservé.',

  'viewer.error.unauthorized.title': 'Connectez-vous avec le lien de npm start',
  'viewer.error.unauthorized.text':
    'La consultation des tickets est réservée à l’opérateur de cette machine. Ouvrez le lien de connexion que npm start a affiché dans son terminal. Une session dure 8 heures.',
  'viewer.error.link_invalid.title': 'Ce lien de connexion ne peut pas être utilisé',
  'viewer.error.link_invalid.text':
    'Chaque lien de connexion ne fonctionne qu’une fois, dans un seul navigateur, jusqu’à l’arrêt de npm start. Ouvrez le lien affiché dans le terminal où npm start tourne actuellement, ou redémarrez npm start pour en obtenir un nouveau.',
  'viewer.error.not_found.title': 'Introuvable',
  'viewer.error.not_found.text':
    'Il n’y a aucun ticket ni aucune pièce jointe à cette adresse, ou ils ne sont plus affichés (la boîte aux lettres a peut-être été déconnectée, ou le demandeur a demandé la limitation du traitement).',
  'viewer.error.not_servable.title': 'Cette pièce jointe ne peut pas être téléchargée',
  'viewer.error.not_servable.text': 'Seules les pièces jointes qui ont passé l’analyse antivirus et ont été conservées peuvent être téléchargées.',
  'viewer.error.misdirected.title': 'Ouvrez la consultation à son adresse locale',
  'viewer.error.misdirected.text':
    'La consultation des tickets ne répond qu’à 127.0.0.1 ou localhost, sur le port affiché par npm start. Ouvrez le lien depuis son terminal.',
  'viewer.error.read_only.title': 'La consultation des tickets est en lecture seule',
  'viewer.error.read_only.text': 'Elle affiche les tickets et ne peut rien modifier. Revenez en arrière et rouvrez la page.',
  'viewer.error.internal.title': 'La page n’a pas pu être affichée',
  'viewer.error.internal.text':
    'Une erreur s’est produite sur cette machine. Réessayez ; si cela se reproduit, consultez le terminal où npm start tourne.',
};
